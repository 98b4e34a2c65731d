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

namespace Kubesharp.E2ETests.Admission;

/// <summary>
/// An admission webhook server on a loopback port, serving HTTPS with a certificate of its own test CA (valid for
/// 127.0.0.1 and for <see cref="ServiceHost"/>). Paths: /mutate adds the label mutated=yes (and a warning),
/// /deny refuses objects labelled deny=yes, /slow answers after the caller gave up, /allow allows.
/// </summary>
public sealed class TestWebhookServer : IAsyncDisposable
{
    public const string ServiceHost = "admission-hook.webhooks.svc";

    private readonly WebApplication _app;

    private TestWebhookServer(WebApplication app, string caPem)
    {
        _app = app;
        CaBundle = Convert.ToBase64String(Encoding.UTF8.GetBytes(caPem));
    }

    /// <summary>The CA, base64 PEM, as a webhook's clientConfig.caBundle.</summary>
    public string CaBundle { get; }

    public int Port { get; private set; }

    public string Url(string path) => $"https://127.0.0.1:{Port}{path}";

    /// <summary>The AdmissionReview requests received, by path.</summary>
    public ConcurrentQueue<(string Path, JsonObject Request)> Calls { get; } = new();

    public static async Task<TestWebhookServer> StartAsync()
    {
        // One instant for both certificates: the serving one may not outlive its CA.
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=webhook-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=admission-hook", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName(ServiceHost);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);
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
        var server = new TestWebhookServer(app, ca.ExportCertificatePem());
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
        Calls.Enqueue((path, request));
        var response = new JsonObject { ["uid"] = (string?)request["uid"], ["allowed"] = true };
        var labels = request["object"]?["metadata"]?["labels"] as JsonObject;
        var deny = (string?)labels?["deny"] == "yes";
        switch (path)
        {
            case "/mutate":
                var patch = labels is null
                    ? new JsonArray(new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels", ["value"] = new JsonObject { ["mutated"] = "yes" } })
                    : new JsonArray(new JsonObject { ["op"] = "add", ["path"] = "/metadata/labels/mutated", ["value"] = "yes" });
                response["patchType"] = "JSONPatch";
                response["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch.ToJsonString()));
                response["warnings"] = new JsonArray("mutated by the test webhook");
                break;
            case "/deny" when deny:
                response["allowed"] = false;
                response["status"] = new JsonObject { ["code"] = 403, ["reason"] = "Forbidden", ["message"] = "objects labelled deny=yes are not welcome" };
                break;
            case "/slow":
                // Longer than the webhook's timeout; ends when the caller hangs up (bounded either way).
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                break;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response }.ToJsonString(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
