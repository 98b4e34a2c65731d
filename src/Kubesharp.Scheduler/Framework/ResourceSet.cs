using Kubesharp.ApiMachinery;

namespace Kubesharp.Scheduler.Framework;

/// <summary>Amounts of schedulable resources: cpu in millicores, bytes, pod count and extended resources.</summary>
public sealed class ResourceSet
{
    public const string CpuName = "cpu";
    public const string MemoryName = "memory";
    public const string EphemeralStorageName = "ephemeral-storage";
    public const string PodsName = "pods";

    public long MilliCpu { get; set; }

    public long Memory { get; set; }

    public long EphemeralStorage { get; set; }

    public long AllowedPods { get; set; }

    /// <summary>Extended resources (nvidia.com/gpu, hugepages-2Mi …) in whole units.</summary>
    public Dictionary<string, long> Scalars { get; } = new(StringComparer.Ordinal);

    public static ResourceSet FromList(IReadOnlyDictionary<string, Quantity>? list)
    {
        var set = new ResourceSet();
        if (list is not null)
        {
            foreach (var (name, quantity) in list)
            {
                set.Set(name, quantity);
            }
        }

        return set;
    }

    public void Set(string name, Quantity quantity)
    {
        switch (name)
        {
            case CpuName:
                MilliCpu = quantity.MilliValue();
                break;
            case MemoryName:
                Memory = quantity.Value();
                break;
            case EphemeralStorageName:
                EphemeralStorage = quantity.Value();
                break;
            case PodsName:
                AllowedPods = quantity.Value();
                break;
            default:
                Scalars[name] = quantity.Value();
                break;
        }
    }

    public void Add(ResourceSet other, int sign = 1)
    {
        ArgumentNullException.ThrowIfNull(other);
        MilliCpu += sign * other.MilliCpu;
        Memory += sign * other.Memory;
        EphemeralStorage += sign * other.EphemeralStorage;
        foreach (var (name, value) in other.Scalars)
        {
            Scalars[name] = Scalars.GetValueOrDefault(name) + (sign * value);
        }
    }

    /// <summary>Element-wise maximum (init containers run one at a time).</summary>
    public void Max(ResourceSet other)
    {
        MilliCpu = Math.Max(MilliCpu, other.MilliCpu);
        Memory = Math.Max(Memory, other.Memory);
        EphemeralStorage = Math.Max(EphemeralStorage, other.EphemeralStorage);
        foreach (var (name, value) in other.Scalars)
        {
            Scalars[name] = Math.Max(Scalars.GetValueOrDefault(name), value);
        }
    }

    public ResourceSet Clone()
    {
        var copy = new ResourceSet { MilliCpu = MilliCpu, Memory = Memory, EphemeralStorage = EphemeralStorage, AllowedPods = AllowedPods };
        foreach (var (name, value) in Scalars)
        {
            copy.Scalars[name] = value;
        }

        return copy;
    }
}
