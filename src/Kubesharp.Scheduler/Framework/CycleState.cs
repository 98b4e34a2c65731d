namespace Kubesharp.Scheduler.Framework;

/// <summary>Data plugins compute once per scheduling cycle (in PreFilter/PreScore) and read per node.</summary>
public sealed class CycleState
{
    // A handful of entries read once per plugin per node (thousands of times a cycle): a linear scan that
    // usually matches on reference (keys are constants) beats hashing the key each time.
    private string[] keys = new string[8];
    private object[] values = new object[8];
    private int count;

    public void Write(string key, object value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var index = IndexOf(key);
        if (index < 0)
        {
            if (count == keys.Length)
            {
                Array.Resize(ref keys, count * 2);
                Array.Resize(ref values, count * 2);
            }

            index = count++;
            keys[index] = key;
        }

        values[index] = value;
    }

    public T? Read<T>(string key)
        where T : class
    {
        var index = IndexOf(key);
        return index < 0 ? null : values[index] as T;
    }

    private int IndexOf(string key)
    {
        for (var i = 0; i < count; i++)
        {
            if (ReferenceEquals(keys[i], key))
            {
                return i;
            }
        }

        for (var i = 0; i < count; i++)
        {
            if (string.Equals(keys[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
