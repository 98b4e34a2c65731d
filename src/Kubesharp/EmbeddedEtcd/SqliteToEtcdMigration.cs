using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.EmbeddedEtcd;

/// <summary>
/// A SQLite server restarted with <c>--cluster-init</c> moves onto its new etcd member, as k3s converts its SQLite
/// datastore: every key of DATA/db/state.db is copied into the still empty member before the API server starts, and the
/// file is set aside (<c>state.db.migrated-to-etcd</c>) so that it is neither copied twice nor served again.
/// </summary>
internal static class SqliteToEtcdMigration
{
    public const string SetAsideSuffix = ".migrated-to-etcd";

    /// <summary>Copies the data directory's SQLite datastore into <paramref name="etcd"/>; returns how many keys, or null without one.</summary>
    public static async Task<long?> MigrateAsync(string dataDirectory, IStore etcd, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(etcd);
        var path = DatastoreEndpoint.DefaultSqlitePath(dataDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        long copied;
        await using (var sqlite = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = path }, cancellationToken).ConfigureAwait(false))
        {
            copied = await StoreMigration.CopyAsync(sqlite, etcd, cancellationToken).ConfigureAwait(false);
        }

        // The log goes with its database, under the name SQLite looks for beside the new one.
        foreach (var suffix in new[] { "-wal", "-shm" })
        {
            if (File.Exists(path + suffix))
            {
                File.Move(path + suffix, path + SetAsideSuffix + suffix, overwrite: true);
            }
        }

        File.Move(path, path + SetAsideSuffix, overwrite: true);
        return copied;
    }
}
