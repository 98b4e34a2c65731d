using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>
/// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics, read on demand from the agents' /stats/summary (what
/// metrics-server does on a timer). An agent that does not answer leaves its node and pods out, and is not
/// asked again for a while.
/// </summary>
internal sealed class MetricsEndpoint(ResourceRegistry registry, KubeletClient kubelets)
{
    private static readonly TimeSpan AgentTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryUnreachableAfter = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, DateTimeOffset> unreachable = new(StringComparer.Ordinal);

    /// <param name="rest">The path after /apis/metrics.k8s.io/VERSION/.</param>
    public async Task HandleAsync(HttpContext context, string version, string[] rest)
    {
        if (version != MetricsResources.Version)
        {
            throw StatusError.PathNotFound();
        }

        var (resource, ns, name) = rest switch
        {
            ["nodes"] => ("nodes", null, null),
            ["nodes", var n] => ("nodes", null, n),
            ["pods"] => ("pods", null, null),
            ["namespaces", var n, "pods"] => ("pods", n, null),
            ["namespaces", var n, "pods", var p] => ("pods", n, p),
            _ => throw StatusError.PathNotFound(),
        };
        if (!HttpMethods.IsGet(context.Request.Method))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        if (IsTrue(context.Request.Query["watch"]))
        {
            throw StatusError.MethodNotAllowed($"watch is not supported on resources of kind \"{resource}.{MetricsResources.Group}\"");
        }

        var query = context.Request.Query;
        var body = resource == "nodes"
            ? await NodeMetricsAsync(name, query["labelSelector"], query["fieldSelector"], context.RequestAborted).ConfigureAwait(false)
            : await PodMetricsAsync(ns, name, query["labelSelector"], query["fieldSelector"], context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, StatusCodes.Status200OK, body).ConfigureAwait(false);
    }

    private async Task<JsonObject> NodeMetricsAsync(string? name, string? labelSelector, string? fieldSelector, CancellationToken cancellationToken)
    {
        var nodes = registry.FindByGroupResource("nodes")!;
        List<CachedObject> selected;
        if (name is not null)
        {
            selected = [registry.Get(nodes, null, name) ?? throw StatusError.NotFound("nodes", MetricsResources.Group, name)];
        }
        else
        {
            var filter = ObjectFilter.Parse("nodes", null, labelSelector, fieldSelector);
            selected = registry.Cache.For(nodes).Snapshot.Values.Where(filter.Matches).ToList();
        }

        var summaries = await SummariesAsync(selected, cancellationToken).ConfigureAwait(false);
        var items = new JsonArray();
        foreach (var node in selected)
        {
            if (!summaries.TryGetValue(node.Name, out var summary) || summary["node"] is not JsonObject usage)
            {
                continue;
            }

            items.Add((JsonNode?)new JsonObject
            {
                ["metadata"] = Metadata(node),
                ["timestamp"] = (string?)usage["cpu"]?["time"],
                ["window"] = Window(summary),
                ["usage"] = Usage(usage),
            });
        }

        if (name is not null)
        {
            return items.Count == 1
                ? WithKind(items[0]!.AsObject().DeepClone().AsObject(), "NodeMetrics")
                : throw StatusError.NotFound("nodes", MetricsResources.Group, name);
        }

        return List("NodeMetricsList", items);
    }

    private async Task<JsonObject> PodMetricsAsync(string? ns, string? name, string? labelSelector, string? fieldSelector, CancellationToken cancellationToken)
    {
        var podResource = registry.FindByGroupResource("pods")!;
        var filter = ObjectFilter.Parse("pods", ns, labelSelector, fieldSelector);
        List<CachedObject> pods;
        if (name is not null)
        {
            pods = [registry.Get(podResource, ns, name) ?? throw StatusError.NotFound("pods", MetricsResources.Group, name)];
        }
        else
        {
            var prefix = ns is null ? WatchCache.KeyPrefix(podResource) : WatchCache.KeyPrefix(podResource) + ns + "/";
            pods = registry.Cache.For(podResource).Snapshot.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal) && filter.Matches(p.Value)).Select(p => p.Value).ToList();
        }

        var nodeResource = registry.FindByGroupResource("nodes")!;
        var nodes = pods.Select(p => NodeName(p)).Where(n => n is not null).Distinct(StringComparer.Ordinal)
            .Select(n => registry.Get(nodeResource, null, n!)).OfType<CachedObject>().ToList();
        var summaries = await SummariesAsync(nodes, cancellationToken).ConfigureAwait(false);
        var byUid = new Dictionary<string, (JsonObject Pod, JsonObject Summary)>(StringComparer.Ordinal);
        foreach (var summary in summaries.Values)
        {
            foreach (var pod in (summary["pods"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if ((string?)pod["podRef"]?["uid"] is { } uid)
                {
                    byUid[uid] = (pod, summary);
                }
            }
        }

        var items = new JsonArray();
        foreach (var pod in pods)
        {
            if (pod.Uid is not { } uid || !byUid.TryGetValue(uid, out var found))
            {
                continue;
            }

            var containers = new JsonArray();
            foreach (var container in (found.Pod["containers"] as JsonArray ?? []).OfType<JsonObject>())
            {
                containers.Add((JsonNode?)new JsonObject { ["name"] = (string?)container["name"], ["usage"] = Usage(container) });
            }

            items.Add((JsonNode?)new JsonObject
            {
                ["metadata"] = Metadata(pod),
                ["timestamp"] = (string?)found.Pod["cpu"]?["time"],
                ["window"] = Window(found.Summary),
                ["containers"] = containers,
            });
        }

        if (name is not null)
        {
            return items.Count == 1
                ? WithKind(items[0]!.AsObject().DeepClone().AsObject(), "PodMetrics")
                : throw StatusError.NotFound("pods", MetricsResources.Group, name);
        }

        return List("PodMetricsList", items);
    }

    /// <summary>Every reachable agent's summary, asked at once, by node name.</summary>
    private async Task<Dictionary<string, JsonObject>> SummariesAsync(IEnumerable<CachedObject> nodes, CancellationToken cancellationToken)
    {
        var now = registry.TimeProvider.GetUtcNow();
        var all = nodes.ToList();
        var simulated = SimulatedSummaries(all.Where(SimulatedUsage.IsSimulated).ToList(), now);
        var asks = all
            .Where(n => !SimulatedUsage.IsSimulated(n))
            .Where(n => !(unreachable.TryGetValue(n.Name, out var since) && now - since < RetryUnreachableAfter))
            .Select(n => (Node: n.Name, Endpoint: KubeletClient.EndpointOf(n)))
            .Where(n => n.Endpoint is not null)
            .Select(async n => (n.Node, Summary: await SummaryAsync(n.Node, n.Endpoint!, cancellationToken).ConfigureAwait(false)))
            .ToList();
        var results = await Task.WhenAll(asks).ConfigureAwait(false);
        foreach (var (node, summary) in results)
        {
            if (summary is not null)
            {
                simulated[node] = summary;
            }
        }

        return simulated;
    }

    /// <summary>Simulated nodes run no agent to ask: their usage comes from their pods' declared usage.</summary>
    private Dictionary<string, JsonObject> SimulatedSummaries(List<CachedObject> nodes, DateTimeOffset now)
    {
        var result = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        if (nodes.Count == 0)
        {
            return result;
        }

        var names = nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var podResource = registry.FindByGroupResource("pods")!;
        var byNode = registry.Cache.For(podResource).Snapshot.Values
            .Select(p => (Node: NodeName(p), Pod: p))
            .Where(p => p.Node is not null && names.Contains(p.Node))
            .ToLookup(p => p.Node!, p => p.Pod, StringComparer.Ordinal);
        foreach (var name in names)
        {
            result[name] = SimulatedUsage.Summary(name, byNode[name], now);
        }

        return result;
    }

    private async Task<JsonObject?> SummaryAsync(string node, Uri endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AgentTimeout);
        try
        {
            using var response = await kubelets.GetAsync(new Uri(endpoint, "/stats/summary"), timeout.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                unreachable.TryRemove(node, out _);
                return JsonNode.Parse(text) as JsonObject;
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
        }

        unreachable[node] = registry.TimeProvider.GetUtcNow();
        return null;
    }

    private static JsonObject Usage(JsonObject stats)
    {
        var nanoCores = stats["cpu"]?["usageNanoCores"]?.GetValue<ulong>() ?? 0;
        var memory = stats["memory"]?["workingSetBytes"]?.GetValue<ulong>() ?? 0;
        return new JsonObject
        {
            ["cpu"] = Quantity.FromScaled(checked((long)nanoCores), -9).ToString(),
            ["memory"] = new Quantity(checked((long)memory), QuantityFormat.BinarySI).ToString(),
        };
    }

    private JsonObject Metadata(CachedObject obj)
    {
        var metadata = new JsonObject { ["name"] = obj.Name };
        if (obj.Namespace.Length > 0)
        {
            metadata["namespace"] = obj.Namespace;
        }

        metadata["creationTimestamp"] = registry.Now();
        if (obj.Labels.Count > 0)
        {
            var labels = new JsonObject();
            foreach (var (k, v) in obj.Labels)
            {
                labels[k] = v;
            }

            metadata["labels"] = labels;
        }

        return metadata;
    }

    private static string Window(JsonObject summary)
    {
        var seconds = summary["windowSeconds"]?.GetValue<double>() ?? 0;
        return seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }

    private static string? NodeName(CachedObject pod) =>
        pod.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("nodeName", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;

    private static JsonObject WithKind(JsonObject item, string kind)
    {
        var result = new JsonObject { ["kind"] = kind, ["apiVersion"] = $"{MetricsResources.Group}/{MetricsResources.Version}" };
        foreach (var (k, v) in item.ToList())
        {
            item.Remove(k);
            result[k] = v;
        }

        return result;
    }

    private static JsonObject List(string kind, JsonArray items) => new()
    {
        ["kind"] = kind,
        ["apiVersion"] = $"{MetricsResources.Group}/{MetricsResources.Version}",
        ["metadata"] = new JsonObject(),
        ["items"] = items,
    };

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value.Count > 0 && value[0] is "true" or "1";
}
