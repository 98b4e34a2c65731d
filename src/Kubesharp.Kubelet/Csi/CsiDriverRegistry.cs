namespace Kubesharp.Kubelet.Csi;

/// <summary>The CSI drivers registered on this node by name (upstream's csiDrivers store); a change wakes whoever waits.</summary>
internal sealed class CsiDriverRegistry : IDisposable
{
    private readonly object gate = new();
    private readonly Dictionary<string, CsiDriver> drivers = new(StringComparer.Ordinal);

    /// <summary>Raised after a driver registered or went away, with its name.</summary>
    public event Action<string>? Changed;

    public CsiDriver? Get(string name)
    {
        lock (gate)
        {
            return drivers.GetValueOrDefault(name);
        }
    }

    public void Add(CsiDriver driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        CsiDriver? replaced;
        lock (gate)
        {
            drivers.Remove(driver.Name, out replaced);
            drivers[driver.Name] = driver;
        }

        if (replaced is not null && replaced.Client != driver.Client)
        {
            replaced.Client.Dispose();
        }

        Changed?.Invoke(driver.Name);
    }

    public void Remove(string name)
    {
        CsiDriver? removed;
        lock (gate)
        {
            drivers.Remove(name, out removed);
        }

        if (removed is not null)
        {
            removed.Client.Dispose();
            Changed?.Invoke(name);
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var driver in drivers.Values)
            {
                driver.Client.Dispose();
            }

            drivers.Clear();
        }
    }
}
