namespace Kubesharp.Storage;

/// <summary>
/// A store that can tell, without a round trip, that it can no longer keep what it would acknowledge
/// (its files are gone, its log cannot be flushed). The API server's readiness reports it.
/// </summary>
public interface IStoreHealth
{
    /// <summary>Null while the store is healthy, else why it is not.</summary>
    string? Problem { get; }
}
