using System.Globalization;
using System.Text;
using Kubesharp.ApiMachinery.Metrics;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Pods;
using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Metrics;

/// <summary>
/// <c>/metrics/cadvisor</c>: cAdvisor's container CPU and memory series for the running containers of pods, read
/// from CRI container stats at scrape time (the runtime measures the cgroups), with cAdvisor's labels.
/// </summary>
public static class CadvisorMetrics
{
    public static async Task<string> RenderAsync(IRuntimeService runtime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var running = new ContainerFilter { State = new ContainerStateValue { State = ContainerState.ContainerRunning } };
        var containers = (await runtime.ListContainersAsync(running, cancellationToken).ConfigureAwait(false))
            .Where(c => c.Labels.ContainsKey(CriLabels.PodUid))
            .ToDictionary(c => c.Id, StringComparer.Ordinal);
        var stats = await runtime.ListContainerStatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var cpu = new StringBuilder();
        var memory = new StringBuilder();
        foreach (var s in stats.OrderBy(s => s.Attributes?.Id, StringComparer.Ordinal))
        {
            if (s.Attributes is null || !containers.TryGetValue(s.Attributes.Id, out var container))
            {
                continue;
            }

            var labels = Labels(container);
            var cpuSeconds = (s.Cpu?.UsageCoreNanoSeconds?.Value ?? 0) / 1e9;
            cpu.Append("container_cpu_usage_seconds_total").Append(labels).Append(' ').Append(cpuSeconds.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            memory.Append("container_memory_working_set_bytes").Append(labels).Append(' ').Append((s.Memory?.WorkingSetBytes?.Value ?? 0).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return new StringBuilder()
            .Append("# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n")
            .Append("# TYPE container_cpu_usage_seconds_total counter\n")
            .Append(cpu)
            .Append("# HELP container_memory_working_set_bytes Current working set in bytes.\n")
            .Append("# TYPE container_memory_working_set_bytes gauge\n")
            .Append(memory)
            .ToString();
    }

    public static string ContentType => MetricsExposition.ContentType;

    private static string Labels(Container container)
    {
        var builder = new StringBuilder("{");
        void Add(string name, string value)
        {
            if (builder.Length > 1)
            {
                builder.Append(',');
            }

            builder.Append(name).Append("=\"").Append(Escape(value)).Append('"');
        }

        Add("container", container.Metadata?.Name ?? string.Empty);
        Add("id", "/" + container.Id);
        Add("image", container.Image?.Image ?? string.Empty);
        Add("name", container.Id);
        Add("namespace", container.Labels.GetValueOrDefault(CriLabels.PodNamespace) ?? string.Empty);
        Add("pod", container.Labels.GetValueOrDefault(CriLabels.PodName) ?? string.Empty);
        return builder.Append('}').ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
