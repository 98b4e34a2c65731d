namespace Kubesharp.Snapshots;

/// <summary>What a snapshot file holds, told by its first bytes.</summary>
internal enum SnapshotKind
{
    /// <summary>Neither: not a datastore snapshot.</summary>
    Unknown,

    /// <summary>A SQLite database file (the embedded datastore).</summary>
    Sqlite,

    /// <summary>An etcd backend database (bbolt) with etcd's trailing checksum.</summary>
    Etcd,
}
