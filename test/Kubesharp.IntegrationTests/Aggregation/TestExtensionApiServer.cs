using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Kubesharp.IntegrationTests.Aggregation;

/// <summary>
/// An extension API server as aggregated APIs are written: HTTPS on a loopback port with a certificate of its own CA
/// for NAME.NAMESPACE.svc, trusting the caller named in X-Remote-User/X-Remote-Group only from a client certificate the
/// front-proxy CA signed for an allowed name (both read from the extension-apiserver-authentication ConfigMap, as a
/// real one reads them). It serves namespaced Flunders of one group-version: discovery, list (as a Table when asked),
/// get and watch.
/// </summary>
public sealed class TestExtensionApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _frontProxyCa;
    private readonly string[] _allowedNames;
    private readonly ConcurrentDictionary<string, JsonObject> _flunders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Channel<JsonObject>, bool> _watchers = new();
    private bool _stopped;

    private TestExtensionApiServer(WebApplication app, string caPem, X509Certificate2 frontProxyCa, string[] allowedNames, string group, string version)
    {
        _app = app;
        _frontProxyCa = frontProxyCa;
        _allowedNames = allowedNames;
        Group = group;
        Version = version;
        CaBundle = Convert.ToBase64String(Encoding.UTF8.GetBytes(caPem));
    }

    public string Group { get; }

    public string Version { get; }

    /// <summary>The serving CA, base64 PEM, as APIService spec.caBundle.</summary>
    public string CaBundle { get; }

    public int Port { get; private set; }

    /// <summary>Every request that reached the server: path, the X-Remote-User and X-Remote-Group it carried, whether the front-proxy certificate was accepted.</summary>
    public ConcurrentQueue<(string Path, string? User, string[] Groups, string[] Extra, bool TrustedProxy)> Requests { get; } = new();

    /// <param name="requestHeaderCaPem">The requestheader-client-ca-file of the ConfigMap.</param>
    /// <param name="allowedNames">The requestheader-allowed-names of the ConfigMap.</param>
    public static async Task<TestExtensionApiServer> StartAsync(string serviceName, string serviceNamespace, string group, string version, string requestHeaderCaPem, string[] allowedNames)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=extension-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={serviceName}.{serviceNamespace}.svc", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName($"{serviceName}.{serviceNamespace}.svc");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), [9, 8, 7, 6]);
        using var withKey = issued.CopyWithPrivateKey(key);
        var serving = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serving,
                // Asked for, not required, so a caller without one is refused with a status rather than a broken handshake.
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (_, _, _) => true,
            });
        }));
        var app = builder.Build();
        var server = new TestExtensionApiServer(app, ca.ExportCertificatePem(), X509Certificate2.CreateFromPem(requestHeaderCaPem), allowedNames, group, version);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    public static JsonObject Flunder(string @namespace, string name, string color) => new()
    {
        ["apiVersion"] = string.Empty,
        ["kind"] = "Flunder",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace, ["creationTimestamp"] = "2026-01-01T00:00:00Z", ["resourceVersion"] = "1" },
        ["spec"] = new JsonObject { ["color"] = color },
    };

    /// <summary>Adds a Flunder; open watches see it ADDED.</summary>
    public void Add(JsonObject flunder)
    {
        flunder["apiVersion"] = $"{Group}/{Version}";
        _flunders[$"{flunder["metadata"]!["namespace"]}/{flunder["metadata"]!["name"]}"] = flunder;
        foreach (var watcher in _watchers.Keys)
        {
            watcher.Writer.TryWrite(flunder);
        }
    }

    private bool TrustedProxy(HttpContext context)
    {
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_frontProxyCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate) && _allowedNames.Contains(certificate.GetNameInfo(X509NameType.SimpleName, false));
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var trusted = TrustedProxy(context);
        var user = trusted ? context.Request.Headers["X-Remote-User"].ToString() : null;
        // One group per header line, as upstream's request-header authentication reads them (no splitting at commas).
        var groups = trusted ? context.Request.Headers["X-Remote-Group"].Select(g => g ?? string.Empty).ToArray() : [];
        var extra = context.Request.Headers.Where(h => h.Key.StartsWith("X-Remote-Extra-", StringComparison.OrdinalIgnoreCase)).Select(h => $"{h.Key}={h.Value}").ToArray();
        Requests.Enqueue((path, user, groups, extra, trusted));
        if (string.IsNullOrEmpty(user))
        {
            await WriteAsync(context, 401, Status(401, "Unauthorized", "Unauthorized"));
            return;
        }

        var prefix = $"/apis/{Group}/{Version}";
        if (path == prefix)
        {
            await WriteAsync(context, 200, new JsonObject
            {
                ["kind"] = "APIResourceList",
                ["apiVersion"] = "v1",
                ["groupVersion"] = $"{Group}/{Version}",
                ["resources"] = new JsonArray(
                    new JsonObject
                    {
                        ["name"] = "flunders",
                        ["singularName"] = "flunder",
                        ["namespaced"] = true,
                        ["kind"] = "Flunder",
                        ["verbs"] = new JsonArray("get", "list", "watch"),
                        ["shortNames"] = new JsonArray("fl"),
                    },
                    new JsonObject { ["name"] = "flunders/status", ["singularName"] = string.Empty, ["namespaced"] = true, ["kind"] = "Flunder", ["verbs"] = new JsonArray("get") }),
            });
            return;
        }

        var rest = path.StartsWith(prefix + "/", StringComparison.Ordinal) ? path[(prefix.Length + 1)..].Split('/') : [];
        string? ns = null;
        if (rest is ["namespaces", var n, .. var tail])
        {
            ns = n;
            rest = tail;
        }

        if (rest is ["flunders"])
        {
            var items = _flunders.Values.Where(f => ns is null || (string?)f["metadata"]!["namespace"] == ns).OrderBy(f => (string?)f["metadata"]!["name"], StringComparer.Ordinal).ToList();
            if (context.Request.Query["watch"] is { Count: > 0 } watch && watch[0] is "true" or "1")
            {
                await WatchAsync(context, ns, items);
                return;
            }

            if (context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal))
            {
                await WriteAsync(context, 200, Table(items));
                return;
            }

            await WriteAsync(context, 200, new JsonObject
            {
                ["kind"] = "FlunderList",
                ["apiVersion"] = $"{Group}/{Version}",
                ["metadata"] = new JsonObject { ["resourceVersion"] = "1" },
                ["items"] = new JsonArray([.. items.Select(i => (JsonNode)i.DeepClone())]),
            });
            return;
        }

        if (rest is ["flunders", var name] && ns is not null)
        {
            if (!_flunders.TryGetValue($"{ns}/{name}", out var flunder))
            {
                await WriteAsync(context, 404, Status(404, "NotFound", $"flunders.{Group} \"{name}\" not found"));
                return;
            }

            await WriteAsync(context, 200, context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal) ? Table([flunder]) : flunder.DeepClone());
            return;
        }

        await WriteAsync(context, 404, Status(404, "NotFound", "the server could not find the requested resource"));
    }

    private async Task WatchAsync(HttpContext context, string? ns, List<JsonObject> existing)
    {
        var channel = Channel.CreateUnbounded<JsonObject>();
        _watchers[channel] = true;
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            foreach (var item in existing)
            {
                await context.Response.WriteAsync(new JsonObject { ["type"] = "ADDED", ["object"] = item.DeepClone() }.ToJsonString() + "\n", context.RequestAborted);
            }

            await context.Response.Body.FlushAsync(context.RequestAborted);
            await foreach (var item in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                if (ns is null || (string?)item["metadata"]!["namespace"] == ns)
                {
                    await context.Response.WriteAsync(new JsonObject { ["type"] = "ADDED", ["object"] = item.DeepClone() }.ToJsonString() + "\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _watchers.TryRemove(channel, out _);
        }
    }

    private static JsonObject Table(List<JsonObject> items) => new()
    {
        ["kind"] = "Table",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = new JsonObject { ["resourceVersion"] = "1" },
        ["columnDefinitions"] = new JsonArray(
            new JsonObject { ["name"] = "Name", ["type"] = "string", ["format"] = "name", ["description"] = "Name", ["priority"] = 0 },
            new JsonObject { ["name"] = "Color", ["type"] = "string", ["format"] = string.Empty, ["description"] = "The colour", ["priority"] = 0 }),
        ["rows"] = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject
        {
            ["cells"] = new JsonArray((string?)i["metadata"]!["name"], (string?)i["spec"]!["color"]),
            ["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = i["metadata"]!.DeepClone() },
        })]),
    };

    private static JsonObject Status(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    /// <summary>Stops serving (the port closes); the APIService's backend is then gone.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        foreach (var watcher in _watchers.Keys)
        {
            watcher.Writer.TryComplete();
        }

        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        _frontProxyCa.Dispose();
    }
}
