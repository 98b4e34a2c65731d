using System.Globalization;

namespace Kubesharp.Kubelet.Stats;

/// <summary>The machine's cumulative CPU time and memory in use, from /proc.</summary>
internal readonly record struct NodeUsage(ulong CpuCoreNanoSeconds, ulong MemoryWorkingSetBytes, ulong MemoryAvailableBytes)
{
    // USER_HZ: /proc/stat counts CPU time in ticks of 1/100 s on every Linux architecture.
    private const ulong NanoSecondsPerTick = 10_000_000;

    public static NodeUsage Read(string procDir = "/proc") =>
        Parse(File.ReadAllText(Path.Combine(procDir, "stat")), File.ReadAllText(Path.Combine(procDir, "meminfo")));

    /// <summary>CPU time is everything but idle and iowait; memory in use is MemTotal minus MemAvailable.</summary>
    public static NodeUsage Parse(string stat, string meminfo)
    {
        ArgumentNullException.ThrowIfNull(stat);
        ArgumentNullException.ThrowIfNull(meminfo);
        ulong busyTicks = 0;
        var cpu = stat.Split('\n').FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal))
            ?? throw new FormatException("no aggregate cpu line in /proc/stat");
        var fields = cpu.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal [guest guest_nice: already counted in user and nice]
        for (var i = 1; i < fields.Length && i <= 8; i++)
        {
            if (i is 4 or 5)
            {
                continue;
            }

            busyTicks += ulong.Parse(fields[i], CultureInfo.InvariantCulture);
        }

        ulong total = 0, available = 0;
        foreach (var line in meminfo.Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2)
            {
                continue;
            }

            var kib = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
            switch (parts[0])
            {
                case "MemTotal:":
                    total = kib * 1024;
                    break;
                case "MemAvailable:":
                    available = kib * 1024;
                    break;
            }
        }

        return new NodeUsage(busyTicks * NanoSecondsPerTick, total > available ? total - available : 0, available);
    }
}
