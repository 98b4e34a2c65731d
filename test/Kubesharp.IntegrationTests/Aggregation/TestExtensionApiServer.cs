using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kubesharp.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;

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
    private readonly X509Certificate2 _frontProxyCa;
    private readonly string[] _allowedNames;
    private readonly ConcurrentDictionary<string, JsonObject> _flunders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Channel<JsonObject>, bool> _watchers = new();
    private LoopbackHttpsHost? _host;

    private TestExtensionApiServer(X509Certificate2 frontProxyCa, string[] allowedNames, string group, string version)
    {
        _frontProxyCa = frontProxyCa;
        _allowedNames = allowedNames;
        Group = group;
        Version = version;
    }

    public string Group { get; }

    public string Version { get; }

    /// <summary>The serving CA, base64 PEM, as APIService spec.caBundle.</summary>
    public string CaBundle => _host!.CaBundle;

    public int Port => _host!.Port;

    /// <summary>Every request that reached the server: path, the X-Remote-User and X-Remote-Group it carried, whether the front-proxy certificate was accepted.</summary>
    public ConcurrentQueue<(string Path, string? User, string[] Groups, string[] Extra, bool TrustedProxy)> Requests { get; } = new();

    /// <param name="requestHeaderCaPem">The requestheader-client-ca-file of the ConfigMap.</param>
    /// <param name="allowedNames">The requestheader-allowed-names of the ConfigMap.</param>
    public static async Task<TestExtensionApiServer> StartAsync(string serviceName, string serviceNamespace, string group, string version, string requestHeaderCaPem, string[] allowedNames)
    {
        var server = new TestExtensionApiServer(X509Certificate2.CreateFromPem(requestHeaderCaPem), allowedNames, group, version);
        var host = $"{serviceName}.{serviceNamespace}.svc";
        server._host = await LoopbackHttpsHost.StartAsync(host, [host], server.HandleAsync, https =>
        {
            // Asked for, not required, so a caller without one is refused with a status rather than a broken handshake.
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (_, _, _) => true;
        });
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
        foreach (var watcher in _watchers.Keys)
        {
            watcher.Writer.TryComplete();
        }

        await _host!.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _host!.DisposeAsync();
        _frontProxyCa.Dispose();
    }
}
