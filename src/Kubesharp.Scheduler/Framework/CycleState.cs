namespace Kubesharp.Scheduler.Framework;

/// <summary>Data plugins compute once per scheduling cycle (in PreFilter/PreScore) and read per node.</summary>
public sealed class CycleState
{
    private readonly Dictionary<string, object> data = new(StringComparer.Ordinal);

    public void Write(string key, object value) => data[key] = value;

    public T? Read<T>(string key)
        where T : class => data.GetValueOrDefault(key) as T;
}
