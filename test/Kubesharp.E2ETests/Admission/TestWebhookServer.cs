using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.E2ETests.Admission;

/// <summary>
/// An admission webhook server on a loopback port, serving HTTPS with a certificate of its own test CA (valid for
/// 127.0.0.1 and for <see cref="ServiceHost"/>). Paths: /mutate adds the label mutated=yes (and a warning),
/// /deny refuses objects labelled deny=yes, /slow answers after the caller gave up, /allow allows.
/// </summary>
public sealed class TestWebhookServer : IAsyncDisposable
{
    public const string ServiceHost = "admission-hook.webhooks.svc";

    private LoopbackHttpsHost? _host;

    /// <summary>The CA, base64 PEM, as a webhook's clientConfig.caBundle.</summary>
    public string CaBundle => _host!.CaBundle;

    public int Port => _host!.Port;

    public string Url(string path) => _host!.Url(path);

    /// <summary>The AdmissionReview requests received, by path.</summary>
    public ConcurrentQueue<(string Path, JsonObject Request)> Calls { get; } = new();

    public static async Task<TestWebhookServer> StartAsync()
    {
        var server = new TestWebhookServer();
        server._host = await LoopbackHttpsHost.StartAsync("admission-hook", [ServiceHost], server.HandleAsync);
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
            case "/annotate":
                response["auditAnnotations"] = new JsonObject { ["checked-by"] = "test-webhook", ["object"] = (string?)request["name"] };
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

    public ValueTask DisposeAsync() => _host?.DisposeAsync() ?? ValueTask.CompletedTask;
}
