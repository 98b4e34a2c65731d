using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// A CustomResource conversion webhook on a loopback port, serving HTTPS with a certificate of its own test CA. It
/// converts Widgets between v1 (<c>spec.color</c>, <c>spec.replicas</c>) and v2 (<c>spec.colour</c>, <c>spec.count</c>). Paths: /convert converts,
/// /short leaves the last object out, /rename changes metadata.name, /relabel adds the label converted=yes.
/// </summary>
public sealed class TestConversionWebhook : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestConversionWebhook(WebApplication app, string caPem)
    {
        _app = app;
        CaBundle = Convert.ToBase64String(Encoding.UTF8.GetBytes(caPem));
    }

    /// <summary>The CA, base64 PEM, as clientConfig.caBundle.</summary>
    public string CaBundle { get; }

    public int Port { get; private set; }

    public string Url(string path) => $"https://127.0.0.1:{Port}{path}";

    /// <summary>The ConversionReviews received (path, query string and request).</summary>
    public ConcurrentQueue<(string Path, string Query, JsonObject Request)> Calls { get; } = new();

    public static async Task<TestConversionWebhook> StartAsync()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=conversion-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=conversion-hook", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), [5, 6, 7, 8]);
        using var withKey = issued.CopyWithPrivateKey(key);
        var serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(serving);
        }));
        var app = builder.Build();
        var server = new TestConversionWebhook(app, ca.ExportCertificatePem());
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var review = JsonNode.Parse(await reader.ReadToEndAsync(context.RequestAborted))!.AsObject();
        var request = review["request"]!.AsObject();
        var path = context.Request.Path.Value ?? "/";
        Calls.Enqueue((path, context.Request.QueryString.Value ?? string.Empty, request));
        var desired = (string?)request["desiredAPIVersion"] ?? string.Empty;
        var converted = new JsonArray();
        foreach (var obj in (request["objects"] as JsonArray)!.OfType<JsonObject>())
        {
            var copy = obj.DeepClone().AsObject();
            var spec = copy["spec"] as JsonObject ?? [];
            var toV2 = desired.EndsWith("/v2", StringComparison.Ordinal);
            foreach (var (from, to) in toV2 ? new[] { ("color", "colour"), ("replicas", "count") } : [("colour", "color"), ("count", "replicas")])
            {
                if (spec[from] is { } value)
                {
                    spec.Remove(from);
                    spec[to] = value.DeepClone();
                }
            }

            copy["apiVersion"] = desired;
            var meta = copy["metadata"]!.AsObject();
            if (path == "/rename")
            {
                meta["name"] = "renamed";
            }
            else if (path == "/relabel")
            {
                var labels = meta["labels"] as JsonObject ?? [];
                labels["converted"] = "yes";
                meta["labels"] = labels;
                meta["generation"] = 99;
            }

            converted.Add(copy);
        }

        if (path == "/short" && converted.Count > 0)
        {
            converted.RemoveAt(converted.Count - 1);
        }

        var response = new JsonObject
        {
            ["uid"] = (string?)request["uid"],
            ["convertedObjects"] = converted,
            ["result"] = new JsonObject { ["status"] = "Success" },
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "ConversionReview", ["response"] = response }.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
