namespace Kubesharp.Kubelet.Simulation;

/// <summary>One simulated node's state: its index, its pod CIDR once assigned, pod IP allocations and whether it has failed.</summary>
internal sealed class SimulatedNode(string name, int index)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> ips = new(StringComparer.Ordinal);
    private readonly HashSet<int> used = [];
    private uint network;
    private int podAddresses;

    public string Name { get; } = name;

    public int Index { get; } = index;

    public volatile bool Failed;

    /// <summary>The Lease as last written, so a renewal is one update rather than a read and an update.</summary>
    public Api.Coordination.V1.Lease? Lease { get; set; }

    /// <summary>The node's <c>spec.podCIDR</c> once known; pods get no address before.</summary>
    public string? Cidr { get; private set; }

    /// <summary>Takes the node's pod CIDR (the first one seen; the API server does not let it change).</summary>
    public void UsePodCidr(string? cidr)
    {
        lock (gate)
        {
            if (Cidr is null && cidr is not null && PodCidr.TryParse(cidr, out var parsed, out var count))
            {
                network = parsed;
                podAddresses = count;
                Cidr = cidr;
            }
        }
    }

    /// <summary>The pod's IP, allocating one from the node's pod CIDR on first use; null when it has none or it is full.</summary>
    public string? IpFor(string podUid)
    {
        lock (gate)
        {
            if (Cidr is null)
            {
                return null;
            }

            if (ips.TryGetValue(podUid, out var host))
            {
                return PodCidr.PodIp(network, host);
            }

            for (var candidate = 2; candidate < podAddresses + 2; candidate++)
            {
                if (used.Add(candidate))
                {
                    ips[podUid] = candidate;
                    return PodCidr.PodIp(network, candidate);
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
                used.Remove(host);
            }
        }
    }
}
