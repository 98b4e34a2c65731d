using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Pods;

namespace Kubesharp.Kubelet.Stats;

/// <summary>
/// The resource usage summary the agent serves at /stats/summary (the subset of the kubelet's Summary API that
/// metrics need): node and per-container CPU rate and memory working set. CPU rates are the difference of two
/// samples of cumulative CPU time; a sample younger than <see cref="Freshness"/> is served again.
/// </summary>
internal sealed class SummaryProvider : IDisposable
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MinimumWindow = TimeSpan.FromSeconds(1);

    private readonly IRuntimeService runtime;
    private readonly string nodeName;
    private readonly Func<NodeUsage> readNode;
    private readonly TimeProvider time;
    private readonly SemaphoreSlim gate = new(1, 1);
    private Sample? last;
    private JsonObject? summary;

    public SummaryProvider(IRuntimeService runtime, string nodeName, Func<NodeUsage> readNode, TimeProvider time)
    {
        this.runtime = runtime;
        this.nodeName = nodeName;
        this.readNode = readNode;
        this.time = time;
    }

    public async Task<JsonObject> GetAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (summary is not null && last is not null && now - last.Time < Freshness)
            {
                return summary;
            }

            var baseline = last;
            if (baseline is null || now - baseline.Time < MinimumWindow)
            {
                baseline ??= await SampleAsync(cancellationToken);
                var wait = MinimumWindow - (time.GetUtcNow() - baseline.Time);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                }
            }

            var current = await SampleAsync(cancellationToken);
            summary = Render(baseline, current);
            last = current;
            return summary;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Sample> SampleAsync(CancellationToken cancellationToken)
    {
        var running = new ContainerFilter { State = new ContainerStateValue { State = ContainerState.ContainerRunning } };
        var runningIds = (await runtime.ListContainersAsync(running, cancellationToken)).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var stats = await runtime.ListContainerStatsAsync(cancellationToken: cancellationToken);
        var containers = new List<ContainerSample>();
        foreach (var s in stats)
        {
            var labels = s.Attributes?.Labels;
            if (s.Attributes is null || !runningIds.Contains(s.Attributes.Id) || labels is null
                || !labels.TryGetValue(CriLabels.PodUid, out var uid) || !labels.TryGetValue(CriLabels.PodName, out var pod)
                || !labels.TryGetValue(CriLabels.PodNamespace, out var ns))
            {
                continue;
            }

            containers.Add(new ContainerSample(
                s.Attributes.Id, ns, pod, uid, s.Attributes.Metadata?.Name ?? "",
                s.Cpu?.UsageCoreNanoSeconds?.Value ?? 0,
                s.Memory?.WorkingSetBytes?.Value ?? 0));
        }

        return new Sample(time.GetUtcNow(), readNode(), containers);
    }

    private JsonObject Render(Sample before, Sample after)
    {
        var seconds = Math.Max((after.Time - before.Time).TotalSeconds, 0.001);
        ulong Rate(ulong from, ulong to) => to > from ? (ulong)((to - from) / seconds) : 0;
        var timestamp = after.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var window = (after.Time - before.Time).TotalSeconds;
        JsonObject Cpu(ulong nanoCores, ulong total) => new() { ["time"] = timestamp, ["usageNanoCores"] = nanoCores, ["usageCoreNanoSeconds"] = total };
        JsonObject Memory(ulong workingSet) => new() { ["time"] = timestamp, ["workingSetBytes"] = workingSet };

        var previous = before.Containers.ToDictionary(c => c.Id, StringComparer.Ordinal);
        var pods = new JsonArray();
        foreach (var group in after.Containers.GroupBy(c => c.PodUid, StringComparer.Ordinal))
        {
            var containers = new JsonArray();
            ulong podCpu = 0, podMemory = 0;
            foreach (var c in group.OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                // A container that started after the first sample counts from zero.
                var cpu = Rate(previous.TryGetValue(c.Id, out var p) ? p.CpuCoreNanoSeconds : 0, c.CpuCoreNanoSeconds);
                podCpu += cpu;
                podMemory += c.WorkingSetBytes;
                containers.Add((JsonNode?)new JsonObject { ["name"] = c.Name, ["cpu"] = Cpu(cpu, c.CpuCoreNanoSeconds), ["memory"] = Memory(c.WorkingSetBytes) });
            }

            var first = group.First();
            pods.Add((JsonNode?)new JsonObject
            {
                ["podRef"] = new JsonObject { ["name"] = first.Pod, ["namespace"] = first.Namespace, ["uid"] = first.PodUid },
                ["containers"] = containers,
                ["cpu"] = new JsonObject { ["time"] = timestamp, ["usageNanoCores"] = podCpu },
                ["memory"] = Memory(podMemory),
            });
        }

        return new JsonObject
        {
            ["node"] = new JsonObject
            {
                ["nodeName"] = nodeName,
                ["cpu"] = Cpu(Rate(before.Node.CpuCoreNanoSeconds, after.Node.CpuCoreNanoSeconds), after.Node.CpuCoreNanoSeconds),
                ["memory"] = new JsonObject
                {
                    ["time"] = timestamp,
                    ["workingSetBytes"] = after.Node.MemoryWorkingSetBytes,
                    ["availableBytes"] = after.Node.MemoryAvailableBytes,
                },
            },
            ["pods"] = pods,
            // Not part of the kubelet's Summary API: the sampling window, which metrics report as "window".
            ["windowSeconds"] = Math.Round(window, 3),
        };
    }

    public void Dispose() => gate.Dispose();

    private sealed record Sample(DateTimeOffset Time, NodeUsage Node, IReadOnlyList<ContainerSample> Containers);

    private sealed record ContainerSample(string Id, string Namespace, string Pod, string PodUid, string Name, ulong CpuCoreNanoSeconds, ulong WorkingSetBytes);
}
