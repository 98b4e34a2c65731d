using Prometheus;

namespace Kubesharp.ApiMachinery.Metrics;

/// <summary>Writes registries in the Prometheus text format, one after the other (their metric names are distinct).</summary>
public static class MetricsExposition
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static async Task WriteAsync(Stream stream, IReadOnlyList<CollectorRegistry> registries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registries);
        foreach (var registry in registries)
        {
            await registry.CollectAndExportAsTextAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }
}
