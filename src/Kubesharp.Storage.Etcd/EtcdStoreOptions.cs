namespace Kubesharp.Storage.Etcd;

/// <summary>Settings of the etcd-backed store.</summary>
public sealed class EtcdStoreOptions
{
    /// <summary>Member addresses as HOST:PORT; the store uses the first that answers and moves on when it stops answering.</summary>
    public required IReadOnlyList<string> Endpoints { get; init; }

    /// <summary>How long one request may take before the store reports the backend unavailable.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
