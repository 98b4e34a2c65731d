using Prometheus;

namespace Kubesharp.ApiMachinery.Metrics;

/// <summary>
/// The process metrics Go's collector reports and prometheus-net's <c>DotNetStats</c> lacks: resident memory and
/// file descriptors, read from /proc at scrape time.
/// </summary>
internal static class ProcessStats
{
    public static void Register(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        var resident = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var openFds = factory.CreateGauge("process_open_fds", "Number of open file descriptors.");
        var maxFds = factory.CreateGauge("process_max_fds", "Maximum number of open file descriptors.");
        registry.AddBeforeCollectCallback(() =>
        {
            resident.Set(Environment.WorkingSet);
            if (!OperatingSystem.IsLinux())
            {
                return;
            }

            try
            {
                openFds.Set(Directory.EnumerateFileSystemEntries("/proc/self/fd").Count());
                foreach (var line in File.ReadLines("/proc/self/limits"))
                {
                    if (line.StartsWith("Max open files", StringComparison.Ordinal))
                    {
                        var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (fields.Length > 0 && double.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var limit))
                        {
                            maxFds.Set(limit);
                        }
                    }
                }
            }
            catch (IOException)
            {
                // /proc is not readable here: the gauges keep their last values.
            }
            catch (UnauthorizedAccessException)
            {
            }
        });
    }
}
