using Kubesharp.Kubelet.Stats;

namespace Kubesharp.Kubelet.Tests.Stats;

public sealed class NodeUsageTests
{
    private const string Meminfo = "MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    6000000 kB\nBuffers:           1000 kB\n";

    [Fact]
    public void Parse_StatAndMeminfo_BusyTimeWithoutIdleAndIowait()
    {
        const string stat = "cpu  100 20 30 5000 400 6 7 8 50 0\ncpu0 50 10 15 2500 200 3 3 4 25 0\nintr 1 2 3\n";

        var usage = NodeUsage.Parse(stat, Meminfo);

        // user+nice+system+irq+softirq+steal = 171 ticks of 10 ms; guest is already inside user.
        Assert.Equal(171UL * 10_000_000, usage.CpuCoreNanoSeconds);
        Assert.Equal(2_000_000UL * 1024, usage.MemoryWorkingSetBytes);
        Assert.Equal(6_000_000UL * 1024, usage.MemoryAvailableBytes);
    }

    [Fact]
    public void Parse_NoAggregateCpuLine_Throws()
    {
        Assert.Throws<FormatException>(() => NodeUsage.Parse("cpu0 1 2 3 4\n", Meminfo));
    }

    [Fact]
    public void Read_ThisMachine_ReportsMemoryInUse()
    {
        var usage = NodeUsage.Read();

        Assert.True(usage.MemoryWorkingSetBytes > 0);
        Assert.True(usage.CpuCoreNanoSeconds > 0);
    }
}
