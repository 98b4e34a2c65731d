namespace Kubesharp.Storage.Sqlite;

internal sealed class CreateOperation(string key, byte[] value) : WriteOperation<KeyValue>
{
    protected override KeyValue Execute(SqliteWriter writer, List<WatchEvent> events)
    {
        var latest = writer.ReadLatest(key);
        if (latest is { Deleted: false })
        {
            throw new KeyExistsException(key);
        }

        var revision = writer.NextRevision();
        writer.Insert(revision, key, revision, latest?.Revision ?? 0, deleted: false, value);
        var current = new KeyValue(key, value, revision, revision);
        events.Add(new WatchEvent(WatchEventType.Put, current, null));
        return current;
    }
}

internal sealed class UpdateOperation(string key, byte[] value, long expectedModRevision) : WriteOperation<KeyValue>
{
    protected override KeyValue Execute(SqliteWriter writer, List<WatchEvent> events)
    {
        if (writer.ReadLatest(key) is not { Deleted: false } latest)
        {
            throw new KeyNotFoundStorageException(key);
        }

        var previous = latest.ToKeyValue(key);
        if (latest.Revision != expectedModRevision)
        {
            throw new ConflictException(key, previous);
        }

        var revision = writer.NextRevision();
        writer.Insert(revision, key, latest.CreateRevision, latest.Revision, deleted: false, value);
        var current = new KeyValue(key, value, latest.CreateRevision, revision);
        events.Add(new WatchEvent(WatchEventType.Put, current, previous));
        return current;
    }
}

internal sealed class DeleteOperation(string key, long expectedModRevision) : WriteOperation<KeyValue>
{
    protected override KeyValue Execute(SqliteWriter writer, List<WatchEvent> events)
    {
        if (writer.ReadLatest(key) is not { Deleted: false } latest)
        {
            throw new KeyNotFoundStorageException(key);
        }

        var previous = latest.ToKeyValue(key);
        if (expectedModRevision != 0 && latest.Revision != expectedModRevision)
        {
            throw new ConflictException(key, previous);
        }

        var revision = writer.NextRevision();
        writer.Insert(revision, key, 0, latest.Revision, deleted: true, []);
        events.Add(new WatchEvent(WatchEventType.Delete, new KeyValue(key, ReadOnlyMemory<byte>.Empty, 0, revision), previous));
        return previous with { ModRevision = revision };
    }
}
