using System.Globalization;
using Kubesharp.Storage;
using Kubesharp.Storage.Etcd;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Snapshots;

/// <summary>
/// Snapshots of the datastore in DATA/server/db/snapshots, named PREFIX-NODE-UNIXSECONDS as k3s names its etcd
/// snapshots: taken online (SQLite with VACUUM INTO, etcd with its Maintenance Snapshot stream), listed, pruned
/// to a retention count per prefix, and restored into a data directory.
/// </summary>
internal sealed class DatastoreSnapshots(string dataDirectory, TimeProvider timeProvider)
{
    public const string OnDemandPrefix = "on-demand";
    public const string ScheduledPrefix = "scheduled";

    private static readonly byte[] SqliteHeader = "SQLite format 3\0"u8.ToArray();

    // bbolt's meta page: a 16-byte page header, then the magic number 0xED0CDAED (little endian).
    private static readonly byte[] BoltMagic = [0xED, 0xDA, 0x0C, 0xED];

    public string Directory { get; } = System.IO.Path.Combine(dataDirectory, "server", "db", "snapshots");

    public string DataDirectory => dataDirectory;

    /// <summary>Takes a snapshot of the open <paramref name="store"/> (the server's own, while it serves).</summary>
    public async Task<SnapshotFile> SaveAsync(IStore store, string prefix, CancellationToken cancellationToken)
    {
        var path = NewPath(prefix);
        switch (store)
        {
            case SqliteStore sqlite:
                await sqlite.BackupAsync(path, cancellationToken).ConfigureAwait(false);
                break;
            case EtcdStore etcd:
                await WriteEtcdSnapshotAsync(etcd, path, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"a {store.GetType().Name} datastore cannot take snapshots");
        }

        return Describe(path);
    }

    /// <summary>Takes a snapshot of the SQLite file at <paramref name="databasePath"/>, which a running server may be using.</summary>
    public async Task<SnapshotFile> SaveSqliteFileAsync(string databasePath, string prefix, CancellationToken cancellationToken)
    {
        var path = NewPath(prefix);
        await SqliteBackup.BackupFileAsync(databasePath, path, cancellationToken).ConfigureAwait(false);
        return Describe(path);
    }

    /// <summary>Every snapshot, oldest first.</summary>
    public IReadOnlyList<SnapshotFile> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        return System.IO.Directory.EnumerateFiles(Directory)
            .Where(f => !f.EndsWith(".part", StringComparison.Ordinal))
            .Select(Describe)
            .OrderBy(s => s.Created)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Deletes the oldest snapshots named PREFIX-… beyond the newest <paramref name="retention"/>; returns what was deleted.</summary>
    public IReadOnlyList<SnapshotFile> Prune(string prefix, int retention)
    {
        var mine = List().Where(s => s.Name.StartsWith(prefix + "-", StringComparison.Ordinal)).ToList();
        var excess = mine.Take(Math.Max(0, mine.Count - Math.Max(1, retention))).ToList();
        foreach (var snapshot in excess)
        {
            File.Delete(snapshot.Path);
        }

        return excess;
    }

    /// <summary>A snapshot by name in the snapshot directory, or a path to a snapshot file.</summary>
    public SnapshotFile Find(string nameOrPath)
    {
        var inDirectory = System.IO.Path.Combine(Directory, nameOrPath);
        var path = !nameOrPath.Contains('/', StringComparison.Ordinal) && File.Exists(inDirectory) ? inDirectory : nameOrPath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no snapshot {nameOrPath} (in {Directory} or as a file)", path);
        }

        return Describe(System.IO.Path.GetFullPath(path));
    }

    public static SnapshotKind Detect(string path)
    {
        Span<byte> head = stackalloc byte[20];
        using var file = File.OpenRead(path);
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read >= SqliteHeader.Length && head[..SqliteHeader.Length].SequenceEqual(SqliteHeader))
        {
            return SnapshotKind.Sqlite;
        }

        return read >= 20 && head[16..20].SequenceEqual(BoltMagic) ? SnapshotKind.Etcd : SnapshotKind.Unknown;
    }

    private string NewPath(string prefix)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var node = Environment.MachineName.ToLowerInvariant();
        var seconds = timeProvider.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var path = System.IO.Path.Combine(Directory, $"{prefix}-{node}-{seconds}");
        if (File.Exists(path))
        {
            throw new IOException($"snapshot {System.IO.Path.GetFileName(path)} exists already; snapshots are at most one a second");
        }

        return path;
    }

    private static SnapshotFile Describe(string path)
    {
        // The time in the name is when it was taken; a copied-in file without one goes by its modification time.
        var info = new FileInfo(path);
        var dash = info.Name.LastIndexOf('-');
        var created = dash > 0 && long.TryParse(info.Name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        return new SnapshotFile(info.Name, info.FullName, info.Length, created, Detect(path));
    }

    /// <summary>Streams into PATH.part, flushes it to disk, then renames: a snapshot that exists is whole.</summary>
    private static async Task WriteEtcdSnapshotAsync(EtcdStore etcd, string path, CancellationToken cancellationToken)
    {
        var partial = path + ".part";
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await etcd.SnapshotAsync(file, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
