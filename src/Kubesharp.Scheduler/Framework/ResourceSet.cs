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

    // Made on first write: most pods request none, and the scheduler keeps a set for every pod.
    private Dictionary<string, long>? scalars;

    /// <summary>Extended resources (nvidia.com/gpu, hugepages-2Mi …) in whole units.</summary>
    public Dictionary<string, long> Scalars => scalars ??= new(StringComparer.Ordinal);

    public bool HasScalars => scalars is { Count: > 0 };

    /// <summary>The amount of one extended resource, 0 when absent (without making <see cref="Scalars"/>).</summary>
    public long Scalar(string name) => scalars?.GetValueOrDefault(name) ?? 0;

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
        if (other.HasScalars)
        {
            foreach (var (name, value) in other.scalars!)
            {
                Scalars[name] = Scalar(name) + (sign * value);
            }
        }
    }

    /// <summary>Element-wise maximum (init containers run one at a time).</summary>
    public void Max(ResourceSet other)
    {
        MilliCpu = Math.Max(MilliCpu, other.MilliCpu);
        Memory = Math.Max(Memory, other.Memory);
        EphemeralStorage = Math.Max(EphemeralStorage, other.EphemeralStorage);
        if (other.HasScalars)
        {
            foreach (var (name, value) in other.scalars!)
            {
                Scalars[name] = Math.Max(Scalar(name), value);
            }
        }
    }

    public ResourceSet Clone()
    {
        var copy = new ResourceSet { MilliCpu = MilliCpu, Memory = Memory, EphemeralStorage = EphemeralStorage, AllowedPods = AllowedPods };
        if (HasScalars)
        {
            copy.scalars = new Dictionary<string, long>(scalars!, StringComparer.Ordinal);
        }

        return copy;
    }
}
