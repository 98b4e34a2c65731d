namespace Kubesharp.Storage.Sqlite;

/// <summary>Raises the compacted revision; returns the revision up to which history was already removed.</summary>
internal sealed class MarkCompactedOperation(long revision) : WriteOperation<long>
{
    protected override long Execute(SqliteWriter writer, List<WatchEvent> events)
    {
        if (revision > writer.CompactRevision)
        {
            writer.SetCompactRevision(revision);
        }

        return writer.CompactedThrough;
    }
}

/// <summary>Removes the history of one slice of revisions; small slices keep each writer transaction short.</summary>
internal sealed class CompactRangeOperation(long after, long through) : WriteOperation<long>
{
    protected override long Execute(SqliteWriter writer, List<WatchEvent> events) => writer.CompactRange(after, through);
}

/// <summary>Returns freed pages to the file system and truncates the write-ahead log.</summary>
internal sealed class ReclaimSpaceOperation(int pages, bool checkpoint) : WriteOperation<long>
{
    public override bool RunsOutsideTransaction => true;

    protected override long Execute(SqliteWriter writer, List<WatchEvent> events) => writer.ReclaimSpace(pages, checkpoint);
}
