namespace Kubesharp.Kubelet.Simulation;

/// <summary>One simulated node's state: its index (CIDR), pod IP allocations and whether it has failed.</summary>
internal sealed class SimulatedNode(string name, int index)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> ips = new(StringComparer.Ordinal);
    private readonly bool[] used = new bool[256];

    public string Name { get; } = name;

    public int Index { get; } = index;

    public volatile bool Failed;

    /// <summary>The Lease as last written, so a renewal is one update rather than a read and an update.</summary>
    public Api.Coordination.V1.Lease? Lease { get; set; }

    /// <summary>The pod's IP, allocating one from the node's /24 on first use; null when the range is full.</summary>
    public string? IpFor(string podUid)
    {
        lock (gate)
        {
            if (ips.TryGetValue(podUid, out var host))
            {
                return PodCidr.PodIp(Index, host);
            }

            for (var candidate = 2; candidate < 255; candidate++)
            {
                if (!used[candidate])
                {
                    used[candidate] = true;
                    ips[podUid] = candidate;
                    return PodCidr.PodIp(Index, candidate);
                }
            }

            return null;
        }
    }

    public void Release(string podUid)
    {
        lock (gate)
        {
            if (ips.Remove(podUid, out var host))
            {
                used[host] = false;
            }
        }
    }
}
