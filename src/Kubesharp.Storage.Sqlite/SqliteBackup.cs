using Microsoft.Data.Sqlite;

namespace Kubesharp.Storage.Sqlite;

/// <summary>Copies and restores store files; a copy is a consistent snapshot taken while writers continue.</summary>
public static class SqliteBackup
{
    /// <summary>Copies the store file at <paramref name="source"/> (which may be in use by a running server) to <paramref name="destination"/>.</summary>
    public static async Task BackupFileAsync(string source, string destination, CancellationToken cancellationToken)
    {
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"no datastore at {source}", source);
        }

        var builder = new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadWrite, Pooling = false };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await VacuumIntoAsync(connection, destination, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task VacuumIntoAsync(SqliteConnection connection, string destination, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(destination);
        if (File.Exists(full))
        {
            throw new IOException($"{full} exists; a backup never overwrites a file");
        }

        if (Path.GetDirectoryName(full) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        // VACUUM INTO reads one snapshot (readers never block the writer in WAL mode) and writes a
        // compact, self-contained file without a write-ahead log.
        using var command = connection.CreateCommand();
        command.CommandText = "VACUUM INTO $path";
        command.Parameters.AddWithValue("$path", full);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using (var file = new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Flush(flushToDisk: true);
        }
    }

    /// <summary>Checks that <paramref name="backup"/> is an intact store file and installs it at <paramref name="destination"/>.</summary>
    public static async Task RestoreFileAsync(string backup, string destination, bool overwrite, CancellationToken cancellationToken)
    {
        if (!File.Exists(backup))
        {
            throw new FileNotFoundException($"no backup at {backup}", backup);
        }

        await VerifyAsync(backup, cancellationToken).ConfigureAwait(false);
        var full = Path.GetFullPath(destination);
        if (File.Exists(full) && !overwrite)
        {
            throw new IOException($"{full} exists; pass --force to replace it");
        }

        if (Path.GetDirectoryName(full) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        // A server still serving the old file would go on writing into the replaced one's log.
        await using var fileLock = SqliteStore.AcquireLock(full);

        // Copy beside the target, flush, then rename: a crash leaves either the old or the new file.
        var staging = full + ".restore";
        File.Copy(backup, staging, overwrite: true);
        await using (var file = new FileStream(staging, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            file.Flush(flushToDisk: true);
        }

        File.Delete(full + "-wal");
        File.Delete(full + "-shm");
        File.Move(staging, full, overwrite: true);
    }

    private static async Task VerifyAsync(string path, CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA application_id";
        var id = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (id != SqliteSchema.ApplicationId)
        {
            throw new InvalidDataException($"{path} is not a Kubesharp datastore backup");
        }

        command.CommandText = "PRAGMA integrity_check";
        var result = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(result, "ok", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path} is damaged: {result}");
        }
    }
}
