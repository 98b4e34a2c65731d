namespace Kubesharp.Snapshots;

/// <summary>One snapshot in the snapshot directory.</summary>
internal sealed record SnapshotFile(string Name, string Path, long Size, DateTimeOffset Created, SnapshotKind Kind);
