namespace Kubesharp.Storage;

/// <summary>
/// A revisioned key-value store with etcd's semantics: one global revision that only grows,
/// compare-and-swap on a key's last-modified revision, consistent prefix lists and ordered watches.
/// Only the API server talks to it.
/// </summary>
public interface IStore : IAsyncDisposable
{
    /// <summary>Values larger than this are refused with <see cref="ValueTooLargeException"/>.</summary>
    const int MaxValueBytes = 1536 * 1024;

    /// <summary>The newest revision the store has committed.</summary>
    Task<long> GetCurrentRevisionAsync(CancellationToken cancellationToken);

    /// <summary>The key's value at <paramref name="revision"/> (0 = latest), or null when absent.</summary>
    /// <exception cref="CompactedException">The revision is below the compacted revision.</exception>
    Task<KeyValue?> GetAsync(string key, long revision, CancellationToken cancellationToken);

    /// <summary>Keys under a prefix in key order, consistent at one revision.</summary>
    Task<ListResult> ListAsync(string prefix, ListOptions options, CancellationToken cancellationToken);

    /// <summary>Creates the key if it is absent.</summary>
    /// <exception cref="KeyExistsException">The key exists.</exception>
    Task<KeyValue> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    /// <summary>Replaces the value if the key's mod revision still equals <paramref name="expectedModRevision"/>.</summary>
    /// <exception cref="ConflictException">The key changed; carries the current value.</exception>
    /// <exception cref="KeyNotFoundStorageException">The key is absent.</exception>
    Task<KeyValue> UpdateAsync(string key, ReadOnlyMemory<byte> value, long expectedModRevision, CancellationToken cancellationToken);

    /// <summary>Deletes the key; with a non-zero <paramref name="expectedModRevision"/> only if it is unchanged.
    /// Returns the deleted value with <see cref="KeyValue.ModRevision"/> set to the delete's revision.</summary>
    /// <exception cref="ConflictException">The key changed.</exception>
    /// <exception cref="KeyNotFoundStorageException">The key is absent.</exception>
    Task<KeyValue> DeleteAsync(string key, long expectedModRevision, CancellationToken cancellationToken);

    /// <summary>
    /// Every change under <paramref name="prefix"/> with a revision greater than <paramref name="afterRevision"/>,
    /// in revision order, exactly once, with the previous value. Ends when the token is cancelled.
    /// </summary>
    /// <exception cref="CompactedException">Changes after <paramref name="afterRevision"/> were compacted away.</exception>
    IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken cancellationToken);

    /// <summary>Forgets history at and below <paramref name="revision"/>; the latest value of every key is kept.</summary>
    Task CompactAsync(long revision, CancellationToken cancellationToken);

    /// <summary>The highest compacted revision (0 when nothing was compacted).</summary>
    Task<long> GetCompactedRevisionAsync(CancellationToken cancellationToken);
}

/// <summary>One key at one revision.</summary>
/// <param name="CreateRevision">Revision at which the key was (last) created.</param>
/// <param name="ModRevision">Revision of the key's last change.</param>
public sealed record KeyValue(string Key, ReadOnlyMemory<byte> Value, long CreateRevision, long ModRevision)
{
    /// <summary>
    /// Set by a layer over the store when it could not turn the stored bytes back into the value (a key its
    /// configuration no longer holds); <see cref="Value"/> is then the bytes as stored. Watches carry such a value on
    /// rather than failing, so one unreadable key does not stop every change behind it.
    /// </summary>
    public string? ReadError { get; init; }
}

/// <param name="Revision">Read at this revision; 0 = latest.</param>
/// <param name="Limit">At most this many keys; 0 = all.</param>
/// <param name="StartAfter">Only keys after this one (a continue token's position); null = from the start.</param>
public sealed record ListOptions(long Revision = 0, int Limit = 0, string? StartAfter = null);

/// <param name="Revision">The revision the list was read at.</param>
/// <param name="More">More keys follow the last one returned.</param>
/// <param name="RemainingCount">Keys after the returned ones, when known.</param>
public sealed record ListResult(IReadOnlyList<KeyValue> Items, long Revision, bool More, long? RemainingCount);

public enum WatchEventType
{
    Put,
    Delete,
}

/// <param name="Current">The key after the change; for a delete, the key with an empty value and the delete's revision.</param>
/// <param name="Previous">The key before the change; null for a create.</param>
public sealed record WatchEvent(WatchEventType Type, KeyValue Current, KeyValue? Previous)
{
    public long Revision => Current.ModRevision;
}
