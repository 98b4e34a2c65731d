using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;

namespace Kubesharp.Kubelet.Pods;

/// <summary>Quality of service classes and what they mean for cgroups: CPU shares, quota and the OOM score.</summary>
internal static class PodQos
{
    public const string Guaranteed = "Guaranteed";
    public const string Burstable = "Burstable";
    public const string BestEffort = "BestEffort";

    private const long CpuPeriod = 100_000;
    private const long MinShares = 2;

    public static string ClassOf(PodSpec spec)
    {
        var containers = (spec.InitContainers ?? []).Concat(spec.Containers ?? []).ToList();
        var any = false;
        var guaranteed = true;
        foreach (var container in containers)
        {
            var requests = container.Resources?.Requests;
            var limits = container.Resources?.Limits;
            foreach (var resource in new[] { "cpu", "memory" })
            {
                var hasRequest = requests?.TryGetValue(resource, out var request) == true && !request.IsZero;
                var hasLimit = limits?.TryGetValue(resource, out var limit) == true && !limit.IsZero;
                any |= hasRequest || hasLimit;
                if (!hasLimit)
                {
                    guaranteed = false;
                }
                else if (hasRequest && requests![resource] != limits![resource])
                {
                    guaranteed = false;
                }
            }
        }

        return !any ? BestEffort : guaranteed ? Guaranteed : Burstable;
    }

    /// <summary>The container's cgroup settings: shares from the CPU request, quota from the CPU limit, the memory limit.</summary>
    public static Cri.V1.LinuxContainerResources LinuxResources(Container container, string qosClass, long machineMemory)
    {
        var resources = new Cri.V1.LinuxContainerResources();
        var requests = container.Resources?.Requests;
        var limits = container.Resources?.Limits;
        Quantity cpuRequest = default;
        var hasCpuRequest = requests?.TryGetValue("cpu", out cpuRequest) == true;
        Quantity cpuLimit = default;
        var hasCpuLimit = limits?.TryGetValue("cpu", out cpuLimit) == true;
        if (!hasCpuRequest && hasCpuLimit)
        {
            cpuRequest = cpuLimit;
            hasCpuRequest = true;
        }

        resources.CpuShares = hasCpuRequest ? Math.Max(MinShares, cpuRequest.MilliValue() * 1024 / 1000) : MinShares;
        if (hasCpuLimit)
        {
            resources.CpuPeriod = CpuPeriod;
            resources.CpuQuota = Math.Max(1000, cpuLimit.MilliValue() * CpuPeriod / 1000);
        }

        if (limits?.TryGetValue("memory", out var memory) == true)
        {
            resources.MemoryLimitInBytes = memory.Value();
        }

        long memoryRequest = requests?.TryGetValue("memory", out var mr) == true ? mr.Value() : 0;
        resources.OomScoreAdj = qosClass switch
        {
            Guaranteed => -997,
            BestEffort => 1000,
            _ => Math.Clamp(1000 - (machineMemory > 0 ? 1000 * memoryRequest / machineMemory : 0), 3, 999),
        };
        return resources;
    }
}
