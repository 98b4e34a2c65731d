using System.CommandLine;
using Kubesharp.Storage;
using Kubesharp.EmbeddedEtcd;
using Kubesharp.Snapshots;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Commands;

/// <summary><c>kubesharp datastore backup|restore|migrate|snapshot</c>: offline and online care of the cluster state.</summary>
internal static class DatastoreCommand
{
    public const string DefaultDataDirectory = "/var/lib/kubesharp";

    public static Command Create()
    {
        var command = new Command("datastore", "Back up, restore and migrate the cluster datastore.");
        command.Subcommands.Add(CreateBackup());
        command.Subcommands.Add(CreateRestore());
        command.Subcommands.Add(CreateMigrate());
        command.Subcommands.Add(CreateSnapshot());
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

    private static Command CreateSnapshot()
    {
        var command = new Command("snapshot", "Save, list and restore snapshots of the datastore (DATA-DIR/server/db/snapshots).");
        command.Subcommands.Add(CreateSnapshotSave());
        command.Subcommands.Add(CreateSnapshotList());
        command.Subcommands.Add(CreateSnapshotRestore());
        return command;
    }

    private static Command CreateSnapshotSave()
    {
        var name = new Option<string>("--name") { Description = "The snapshot's name prefix; the node name and the time are appended.", DefaultValueFactory = _ => DatastoreSnapshots.OnDemandPrefix };
        var dataDirectory = DataDirectoryOption(required: false);
        var endpoint = new Option<string?>("--datastore-endpoint")
        {
            Description = "Snapshot this datastore (default: the server's own etcd member under --cluster-init, else its SQLite file).",
        };
        var tls = TlsOptions.Create();
        var command = new Command("save", "Take a consistent snapshot of the datastore while the server keeps running.") { name, dataDirectory, endpoint };
        foreach (var option in tls.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => RunAsync(result, async () =>
        {
            var data = Path.GetFullPath(result.GetRequiredValue(dataDirectory));
            var prefix = result.GetRequiredValue(name);
            if (prefix.Length == 0 || prefix.IndexOfAny(['/', '\\', '\0']) >= 0 || prefix.StartsWith('.'))
            {
                throw new FormatException($"--name {prefix} must be a plain file name");
            }

            var snapshots = new DatastoreSnapshots(data, TimeProvider.System);
            var source = result.GetValue(endpoint) is { } url
                ? ParseEndpoint(url, data, tls.Read(result))
                : new EtcdMemberLayout(data).ClientEndpoint() ?? DatastoreEndpoint.Parse(null, data);
            SnapshotFile saved;
            if (source.Scheme == DatastoreEndpoint.SqliteScheme)
            {
                saved = await snapshots.SaveSqliteFileAsync(source.Address, prefix, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await using var store = await StoreBackends.CreateFactory().OpenAsync(source, cancellationToken).ConfigureAwait(false);
                saved = await snapshots.SaveAsync(store, prefix, cancellationToken).ConfigureAwait(false);
            }

            await result.InvocationConfiguration.Output.WriteLineAsync($"saved snapshot {saved.Name} of {source} ({saved.Size} bytes) to {saved.Path}").ConfigureAwait(false);
        }));
        return command;
    }

    private static Command CreateSnapshotList()
    {
        var dataDirectory = DataDirectoryOption(required: false);
        var command = new Command("list", "List the snapshots in DATA-DIR/server/db/snapshots, oldest first.") { dataDirectory };
        command.SetAction((result, cancellationToken) => RunAsync(result, async () =>
        {
            var snapshots = new DatastoreSnapshots(Path.GetFullPath(result.GetRequiredValue(dataDirectory)), TimeProvider.System);
            var output = result.InvocationConfiguration.Output;
            var rows = snapshots.List();
            var width = Math.Max("NAME".Length, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
            await output.WriteLineAsync($"{"NAME".PadRight(width)}  {"DATASTORE",-9}  {"SIZE",12}  CREATED").ConfigureAwait(false);
            foreach (var row in rows)
            {
                var kind = row.Kind.ToString().ToLowerInvariant();
                await output.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{row.Name.PadRight(width)}  {kind,-9}  {row.Size,12}  {row.Created:yyyy-MM-ddTHH:mm:ssZ}")).ConfigureAwait(false);
            }
        }));
        return command;
    }

    private static Command CreateSnapshotRestore()
    {
        var snapshot = new Argument<string>("SNAPSHOT") { Description = "A snapshot's name in DATA-DIR/server/db/snapshots, or a path to a snapshot file." };
        var dataDirectory = DataDirectoryOption(required: true);
        var force = new Option<bool>("--force") { Description = "Replace an existing datastore (SQLite file or etcd member data) in the data directory." };
        var peerUrl = new Option<string?>("--etcd-peer-url") { Description = "For an etcd snapshot: the peer URL of the new one-member cluster (default: the one the member last advertised, else https://127.0.0.1:2380)." };
        var command = new Command("restore", "Restore a snapshot into a stopped server's data directory: a SQLite snapshot as its datastore file, an etcd snapshot as a new one-member cluster for --cluster-init.")
        {
            snapshot, dataDirectory, force, peerUrl,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, async () =>
        {
            var data = Path.GetFullPath(result.GetRequiredValue(dataDirectory));
            var found = new DatastoreSnapshots(data, TimeProvider.System).Find(result.GetRequiredValue(snapshot));
            switch (found.Kind)
            {
                case SnapshotKind.Sqlite:
                    var target = DatastoreEndpoint.DefaultSqlitePath(data);
                    await SqliteBackup.RestoreFileAsync(found.Path, target, result.GetValue(force), cancellationToken).ConfigureAwait(false);
                    await result.InvocationConfiguration.Output.WriteLineAsync($"restored {found.Name} to {target}").ConfigureAwait(false);
                    break;
                case SnapshotKind.Etcd:
                    var layout = new EtcdMemberLayout(data);
                    var url = result.GetValue(peerUrl) ?? layout.RecordedPeerUrl() ?? EtcdMemberLayout.Url("https", System.Net.IPAddress.Loopback, EtcdMemberLayout.DefaultPeerPort);
                    await EtcdSnapshotRestore.RestoreAsync(found.Path, layout, url, result.GetValue(force), cancellationToken).ConfigureAwait(false);
                    await result.InvocationConfiguration.Output.WriteLineAsync($"restored {found.Name} to {layout.DataDir} as the one-member etcd cluster {layout.MemberName()}={url}; start the server with --cluster-init").ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidDataException($"{found.Path} is neither a SQLite nor an etcd snapshot");
            }
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
