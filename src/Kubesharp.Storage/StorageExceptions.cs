namespace Kubesharp.Storage;

/// <summary>Base of the expected failures a store reports; the API server maps each to a Status reason.</summary>
public abstract class StorageException(string message, Exception? innerException = null) : Exception(message, innerException);

public sealed class KeyExistsException(string key) : StorageException($"key {key} already exists")
{
    public string Key { get; } = key;
}

public sealed class KeyNotFoundStorageException(string key) : StorageException($"key {key} not found")
{
    public string Key { get; } = key;
}

/// <summary>A compare-and-swap lost: the key's mod revision is no longer the expected one.</summary>
public sealed class ConflictException(string key, KeyValue? current)
    : StorageException($"key {key} was modified (mod revision {current?.ModRevision ?? 0})")
{
    public string Key { get; } = key;

    public KeyValue? Current { get; } = current;
}

/// <summary>The requested revision is at or below the compacted revision (the API server answers 410 Gone).</summary>
public sealed class CompactedException(long requestedRevision, long compactedRevision)
    : StorageException($"required revision {requestedRevision} has been compacted (compacted revision {compactedRevision})")
{
    public long RequestedRevision { get; } = requestedRevision;

    public long CompactedRevision { get; } = compactedRevision;
}

public sealed class ValueTooLargeException(string key, int size)
    : StorageException($"value of key {key} is {size} bytes, more than the limit of {IStore.MaxValueBytes} bytes")
{
    public string Key { get; } = key;

    public int Size { get; } = size;
}

/// <summary>The store cannot serve right now (closed, backend unreachable); callers may retry.</summary>
public sealed class StoreUnavailableException(string message, Exception? innerException = null)
    : StorageException(message, innerException);

/// <summary>Another process (or another store in this one) has the datastore file open.</summary>
public sealed class DatastoreInUseException(string path, Exception? innerException = null)
    : StorageException($"the datastore {path} is in use by another kubesharp process (it holds {path}.lock); stop that process first", innerException)
{
    public string Path { get; } = path;
}

/// <summary>The requested revision is newer than the store's current revision.</summary>
public sealed class FutureRevisionException(long requestedRevision, long currentRevision)
    : StorageException($"required revision {requestedRevision} is a future revision (current revision {currentRevision})")
{
    public long RequestedRevision { get; } = requestedRevision;

    public long CurrentRevision { get; } = currentRevision;
}
