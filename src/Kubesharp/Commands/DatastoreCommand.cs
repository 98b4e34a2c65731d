using System.CommandLine;
using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Commands;

/// <summary><c>kubesharp datastore backup|restore|migrate</c>: offline and online care of the cluster state.</summary>
internal static class DatastoreCommand
{
    public const string DefaultDataDirectory = "/var/lib/kubesharp";

    public static Command Create()
    {
        var command = new Command("datastore", "Back up, restore and migrate the cluster datastore.");
        command.Subcommands.Add(CreateBackup());
        command.Subcommands.Add(CreateRestore());
        command.Subcommands.Add(CreateMigrate());
        return command;
    }

    private static Option<string> DataDirectoryOption(bool required)
    {
        var option = new Option<string>("--data-dir")
        {
            Description = "The server's data directory (its SQLite datastore is DATA-DIR/db/state.db).",
            Required = required,
        };
        if (!required)
        {
            option.DefaultValueFactory = _ => DefaultDataDirectory;
        }

        return option;
    }

    /// <summary>The TLS flags k3s names for its etcd datastore; they apply to every etcd endpoint of the command.</summary>
    internal sealed record TlsOptions(Option<string?> CaFile, Option<string?> CertFile, Option<string?> KeyFile)
    {
        public static TlsOptions Create() => new(
            new Option<string?>("--datastore-cafile") { Description = "PEM file of the CA that signs the etcd members' certificates." },
            new Option<string?>("--datastore-certfile") { Description = "PEM client certificate presented to etcd." },
            new Option<string?>("--datastore-keyfile") { Description = "PEM private key of --datastore-certfile." });

        public IEnumerable<Option> All => [CaFile, CertFile, KeyFile];

        public DatastoreTls Read(ParseResult result) => new(result.GetValue(CaFile), result.GetValue(CertFile), result.GetValue(KeyFile));
    }

    /// <summary>Parses an endpoint; the TLS files go to etcd endpoints only, so one flag set serves both sides of a migration.</summary>
    private static DatastoreEndpoint ParseEndpoint(string? url, string dataDirectory, DatastoreTls tls)
    {
        var endpoint = DatastoreEndpoint.Parse(url, dataDirectory);
        return endpoint.Scheme == DatastoreEndpoint.EtcdScheme ? DatastoreEndpoint.Parse(url, dataDirectory, tls) : endpoint;
    }

    private static Command CreateBackup()
    {
        var file = new Argument<string>("FILE") { Description = "The backup file to write; it must not exist." };
        var dataDirectory = DataDirectoryOption(required: false);
        var endpoint = new Option<string?>("--datastore-endpoint")
        {
            Description = "Back up this datastore instead (sqlite://PATH or etcd://HOST:PORT[,...]).",
        };
        var tls = TlsOptions.Create();
        var command = new Command("backup", "Write a consistent copy of the datastore to FILE while the server keeps running.")
        {
            file, dataDirectory, endpoint,
        };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => RunAsync(result, async () =>
        {
            var destination = result.GetRequiredValue(file);
            var source = ParseEndpoint(result.GetValue(endpoint), result.GetRequiredValue(dataDirectory), tls.Read(result));
            if (source.Scheme == DatastoreEndpoint.SqliteScheme)
            {
                await SqliteBackup.BackupFileAsync(source.Address, destination, cancellationToken).ConfigureAwait(false);
                await result.InvocationConfiguration.Output.WriteLineAsync($"backed up {source} to {destination}").ConfigureAwait(false);
                return;
            }

            // Any other backend is copied key by key into a fresh SQLite file, which restore accepts.
            if (File.Exists(destination))
            {
                throw new IOException($"{destination} exists; a backup never overwrites a file");
            }

            var count = await CopyAsync(source, new DatastoreEndpoint(DatastoreEndpoint.SqliteScheme, destination), cancellationToken).ConfigureAwait(false);
            await result.InvocationConfiguration.Output.WriteLineAsync($"backed up {count} keys of {source} to {destination}").ConfigureAwait(false);
        }));
        return command;
    }

    private static Command CreateRestore()
    {
        var file = new Argument<string>("FILE") { Description = "A backup written by 'kubesharp datastore backup'." };
        var dataDirectory = DataDirectoryOption(required: true);
        var force = new Option<bool>("--force") { Description = "Replace an existing datastore in the data directory." };
        var command = new Command("restore", "Install a backup as the SQLite datastore of a (stopped) server's data directory.")
        {
            file, dataDirectory, force,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, async () =>
        {
            var backup = result.GetRequiredValue(file);
            var target = DatastoreEndpoint.DefaultSqlitePath(result.GetRequiredValue(dataDirectory));
            await SqliteBackup.RestoreFileAsync(backup, target, result.GetValue(force), cancellationToken).ConfigureAwait(false);
            await result.InvocationConfiguration.Output.WriteLineAsync($"restored {backup} to {target}").ConfigureAwait(false);
        }));
        return command;
    }

    private static Command CreateMigrate()
    {
        var from = new Option<string>("--from") { Description = "The source datastore endpoint.", Required = true };
        var to = new Option<string>("--to") { Description = "The target datastore endpoint; it must be empty.", Required = true };
        var tls = TlsOptions.Create();
        var command = new Command("migrate", "Copy every key from one datastore to another (SQLite to etcd or etcd to SQLite).")
        {
            from, to,
        };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => RunAsync(result, async () =>
        {
            var source = ParseEndpoint(result.GetRequiredValue(from), DefaultDataDirectory, tls.Read(result));
            var target = ParseEndpoint(result.GetRequiredValue(to), DefaultDataDirectory, tls.Read(result));
            if (source.Scheme == DatastoreEndpoint.SqliteScheme && !File.Exists(source.Address))
            {
                throw new FileNotFoundException($"no datastore at {source.Address}");
            }

            var count = await CopyAsync(source, target, cancellationToken).ConfigureAwait(false);
            await result.InvocationConfiguration.Output.WriteLineAsync($"migrated {count} keys from {source} to {target}").ConfigureAwait(false);
        }));
        return command;
    }

    private static async Task<long> CopyAsync(DatastoreEndpoint source, DatastoreEndpoint target, CancellationToken cancellationToken)
    {
        var factory = StoreBackends.CreateFactory();
        await using var from = await factory.OpenAsync(source, cancellationToken).ConfigureAwait(false);
        await using var to = await factory.OpenAsync(target, cancellationToken).ConfigureAwait(false);
        return await StoreMigration.CopyAsync(from, to, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Expected failures become one line on standard error and exit code 1, never a stack trace.</summary>
    private static async Task<int> RunAsync(ParseResult result, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is StorageException or IOException or InvalidDataException or FormatException
            or InvalidOperationException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync($"kubesharp datastore: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
