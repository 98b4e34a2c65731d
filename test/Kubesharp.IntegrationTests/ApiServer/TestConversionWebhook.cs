using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kubesharp.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// A CustomResource conversion webhook on a loopback port, serving HTTPS with a certificate of its own test CA. It
/// converts Widgets between v1 (<c>spec.color</c>, <c>spec.replicas</c>) and v2 (<c>spec.colour</c>, <c>spec.count</c>). Paths: /convert converts,
/// /short leaves the last object out, /rename changes metadata.name, /relabel adds the label converted=yes.
/// </summary>
public sealed class TestConversionWebhook : IAsyncDisposable
{
    private LoopbackHttpsHost? _host;

    /// <summary>The CA, base64 PEM, as clientConfig.caBundle.</summary>
    public string CaBundle => _host!.CaBundle;

    public int Port => _host!.Port;

    public string Url(string path) => _host!.Url(path);

    /// <summary>The ConversionReviews received (path, query string and request).</summary>
    public ConcurrentQueue<(string Path, string Query, JsonObject Request)> Calls { get; } = new();

    public static async Task<TestConversionWebhook> StartAsync()
    {
        var webhook = new TestConversionWebhook();
        webhook._host = await LoopbackHttpsHost.StartAsync("conversion-hook", [], webhook.HandleAsync);
        return webhook;
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

    public ValueTask DisposeAsync() => _host?.DisposeAsync() ?? ValueTask.CompletedTask;
}
