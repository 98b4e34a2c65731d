using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.Nodes;

/// <summary>
/// The usage of pods on simulated nodes (nodes labelled <c>type=kubesharp-simulated</c>), which run no processes to
/// measure: a running pod uses what its annotations <see cref="CpuAnnotation"/> and <see cref="MemoryAnnotation"/> say
/// (split over its containers in proportion to their requests, evenly when none requests any), and otherwise each of its
/// containers uses exactly what it requests. The node uses the sum of its pods. The result has the shape of an agent's
/// /stats/summary, so metrics.k8s.io (kubectl top, the HorizontalPodAutoscaler) reads simulated and real nodes alike.
/// </summary>
internal static class SimulatedUsage
{
    public const string NodeLabel = "type";
    public const string NodeLabelValue = "kubesharp-simulated";

    /// <summary>Pod annotation: the pod's total CPU usage as a quantity (e.g. <c>250m</c>).</summary>
    public const string CpuAnnotation = "kubesharp.io/simulated-cpu-usage";

    /// <summary>Pod annotation: the pod's total memory working set as a quantity (e.g. <c>64Mi</c>).</summary>
    public const string MemoryAnnotation = "kubesharp.io/simulated-memory-usage";

    public static bool IsSimulated(CachedObject node) =>
        node.Labels.TryGetValue(NodeLabel, out var value) && value == NodeLabelValue;

    /// <summary>The summary of one simulated node from the pods bound to it, measured at <paramref name="now"/>.</summary>
    public static JsonObject Summary(string nodeName, IEnumerable<CachedObject> pods, DateTimeOffset now)
    {
        var timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        // Unsigned, as agents report them (and as the metrics endpoint reads them).
        JsonObject Cpu(long nanoCores) => new() { ["time"] = timestamp, ["usageNanoCores"] = (ulong)Math.Max(nanoCores, 0) };
        JsonObject Memory(long bytes) => new() { ["time"] = timestamp, ["workingSetBytes"] = (ulong)Math.Max(bytes, 0) };
        long nodeCpu = 0, nodeMemory = 0;
        var items = new JsonArray();
        foreach (var pod in pods)
        {
            if (!IsRunning(pod))
            {
                continue;
            }

            var containers = Containers(pod);
            var cpu = Split(Annotation(pod, CpuAnnotation, -9), containers.Select(c => c.CpuNanos).ToList());
            var memory = Split(Annotation(pod, MemoryAnnotation, 0), containers.Select(c => c.MemoryBytes).ToList());
            var containerItems = new JsonArray();
            long podCpu = 0, podMemory = 0;
            for (var i = 0; i < containers.Count; i++)
            {
                podCpu += cpu[i];
                podMemory += memory[i];
                containerItems.Add((JsonNode?)new JsonObject { ["name"] = containers[i].Name, ["cpu"] = Cpu(cpu[i]), ["memory"] = Memory(memory[i]) });
            }

            nodeCpu += podCpu;
            nodeMemory += podMemory;
            items.Add((JsonNode?)new JsonObject
            {
                ["podRef"] = new JsonObject { ["name"] = pod.Name, ["namespace"] = pod.Namespace, ["uid"] = pod.Uid },
                ["containers"] = containerItems,
                ["cpu"] = Cpu(podCpu),
                ["memory"] = Memory(podMemory),
            });
        }

        return new JsonObject
        {
            ["node"] = new JsonObject { ["nodeName"] = nodeName, ["cpu"] = Cpu(nodeCpu), ["memory"] = Memory(nodeMemory) },
            ["pods"] = items,
            // Simulated usage is what it is at this instant: the shortest window an agent reports.
            ["windowSeconds"] = 1.0,
        };
    }

    /// <summary>The share of <paramref name="total"/> of each container (its request when the pod gives no total).</summary>
    private static long[] Split(long? total, List<long> requests)
    {
        if (total is not { } sum)
        {
            return [.. requests];
        }

        var result = new long[requests.Count];
        if (result.Length == 0)
        {
            return result;
        }

        var requested = requests.Sum();
        long given = 0;
        for (var i = 0; i < result.Length - 1; i++)
        {
            result[i] = requested > 0 ? (long)((decimal)sum * requests[i] / requested) : sum / result.Length;
            given += result[i];
        }

        result[^1] = sum - given;
        return result;
    }

    private static long? Annotation(CachedObject pod, string name, int scale)
    {
        if (pod.Metadata.ValueKind == JsonValueKind.Object && pod.Metadata.TryGetProperty("annotations", out var annotations) &&
            annotations.ValueKind == JsonValueKind.Object && annotations.TryGetProperty(name, out var value) &&
            value.ValueKind == JsonValueKind.String && Quantity.TryParse(value.GetString(), out var quantity) && quantity.Sign >= 0)
        {
            return quantity.ScaledValue(scale);
        }

        return null;
    }

    private static bool IsRunning(CachedObject pod) =>
        pod.Root.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object &&
        status.TryGetProperty("phase", out var phase) && phase.ValueKind == JsonValueKind.String && phase.ValueEquals("Running");

    private static List<(string Name, long CpuNanos, long MemoryBytes)> Containers(CachedObject pod)
    {
        var result = new List<(string, long, long)>();
        if (!pod.Root.TryGetProperty("spec", out var spec) || !spec.TryGetProperty("containers", out var containers) || containers.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var container in containers.EnumerateArray())
        {
            var name = container.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() ?? string.Empty : string.Empty;
            long cpu = 0, memory = 0;
            if (container.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Object &&
                resources.TryGetProperty("requests", out var requests) && requests.ValueKind == JsonValueKind.Object)
            {
                cpu = Request(requests, "cpu", -9);
                memory = Request(requests, "memory", 0);
            }

            result.Add((name, cpu, memory));
        }

        return result;
    }

    private static long Request(JsonElement requests, string name, int scale) =>
        requests.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && Quantity.TryParse(value.GetString(), out var q)
            ? Math.Max(q.ScaledValue(scale), 0)
            : 0;
}
