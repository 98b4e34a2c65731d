using System.CommandLine;
using System.Text;
using Kubesharp.Commands;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Storage.Tests;

public sealed class DatastoreCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    internal static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var root = new RootCommand { DatastoreCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    internal static async Task FillAsync(IStore store, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await store.CreateAsync($"/registry/things/k{i:D4}", Encoding.UTF8.GetBytes($"value {i}"), default);
        }
    }

    internal static async Task AssertFilledAsync(IStore store, int count)
    {
        var list = await store.ListAsync("/", new ListOptions(), default);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"/registry/things/k{i:D4}"), list.Items.Select(i => i.Key));
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"value {i}"), list.Items.Select(i => Encoding.UTF8.GetString(i.Value.Span)));
    }

    private async Task<SqliteStore> OpenDataDirectoryAsync(string dataDirectory) =>
        await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = DatastoreEndpoint.DefaultSqlitePath(dataDirectory), CompactionInterval = TimeSpan.Zero }, default);

    [Fact]
    public async Task Backup_RunningStoreThenRestore_NewDataDirectoryHoldsEveryKey()
    {
        var serverData = Path.Combine(_directory.Path, "server");
        var backup = Path.Combine(_directory.Path, "backup.db");
        await using (var serving = await OpenDataDirectoryAsync(serverData))
        {
            await FillAsync(serving, 120);

            // The store stays open (as in a running server) while another process-like caller backs it up.
            var (exit, output, error) = await RunAsync("datastore", "backup", backup, "--data-dir", serverData);
            Assert.True(exit == 0, error);
            Assert.Contains("backed up", output, StringComparison.Ordinal);
        }

        var restoredData = Path.Combine(_directory.Path, "restored");
        var restore = await RunAsync("datastore", "restore", backup, "--data-dir", restoredData);
        Assert.True(restore.ExitCode == 0, restore.Error);

        await using var restored = await OpenDataDirectoryAsync(restoredData);
        await AssertFilledAsync(restored, 120);
    }

    [Fact]
    public async Task Restore_ExistingDatastoreWithoutForce_FailsAndKeepsIt()
    {
        var data = Path.Combine(_directory.Path, "data");
        var backup = Path.Combine(_directory.Path, "backup.db");
        await using (var store = await OpenDataDirectoryAsync(data))
        {
            await FillAsync(store, 3);
            await store.BackupAsync(backup, default);
            await store.CreateAsync("/extra", new byte[1], default);
        }

        var (exit, _, error) = await RunAsync("datastore", "restore", backup, "--data-dir", data);

        Assert.Equal(1, exit);
        Assert.Contains("--force", error, StringComparison.Ordinal);
        await using (var kept = await OpenDataDirectoryAsync(data))
        {
            Assert.NotNull(await kept.GetAsync("/extra", 0, default));
        }

        Assert.Equal(0, (await RunAsync("datastore", "restore", backup, "--data-dir", data, "--force")).ExitCode);
        await using var replaced = await OpenDataDirectoryAsync(data);
        Assert.Null(await replaced.GetAsync("/extra", 0, default));
        await AssertFilledAsync(replaced, 3);
    }

    [Fact]
    public async Task Restore_FileIsNotADatastore_FailsWithMessage()
    {
        var bogus = Path.Combine(_directory.Path, "bogus.db");
        await File.WriteAllTextAsync(bogus, "not a database at all, just text that is long enough to look like something");

        var (exit, _, error) = await RunAsync("datastore", "restore", bogus, "--data-dir", Path.Combine(_directory.Path, "data"));

        Assert.Equal(1, exit);
        Assert.StartsWith("kubesharp datastore:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_SqliteToSqlite_CopiesEveryKey()
    {
        var from = Path.Combine(_directory.Path, "from.db");
        var to = Path.Combine(_directory.Path, "to.db");
        await using (var source = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = from }, default))
        {
            await FillAsync(source, 1200);
        }

        var (exit, output, error) = await RunAsync("datastore", "migrate", "--from", "sqlite://" + from, "--to", "sqlite://" + to);

        Assert.True(exit == 0, error);
        Assert.Contains("migrated 1200 keys", output, StringComparison.Ordinal);
        await using var target = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = to }, default);
        await AssertFilledAsync(target, 1200);
    }

    [Fact]
    public async Task Migrate_TargetNotEmpty_FailsWithoutWriting()
    {
        var from = Path.Combine(_directory.Path, "from.db");
        var to = Path.Combine(_directory.Path, "to.db");
        await using (var source = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = from }, default))
        {
            await FillAsync(source, 5);
        }

        long revision;
        await using (var target = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = to }, default))
        {
            revision = (await target.CreateAsync("/occupied", new byte[1], default)).ModRevision;
        }

        var (exit, _, error) = await RunAsync("datastore", "migrate", "--from", "sqlite://" + from, "--to", "sqlite://" + to);

        Assert.Equal(1, exit);
        Assert.Contains("not empty", error, StringComparison.Ordinal);
        await using var unchanged = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = to }, default);
        Assert.Equal(revision, await unchanged.GetCurrentRevisionAsync(default));
    }

    [Theory]
    [InlineData(null, "sqlite", "/data/db/state.db")]
    [InlineData("sqlite:///var/x.db", "sqlite", "/var/x.db")]
    [InlineData("etcd://127.0.0.1:2379, 10.0.0.2:2379", "etcd", "127.0.0.1:2379,10.0.0.2:2379")]
    public void Parse_Endpoint_SelectsBackendAndAddress(string? url, string scheme, string address)
    {
        var endpoint = DatastoreEndpoint.Parse(url, "/data");

        Assert.Equal(scheme, endpoint.Scheme);
        Assert.Equal(address, endpoint.Address);
    }

    [Theory]
    [InlineData("postgres://x")]
    [InlineData("etcd://")]
    [InlineData("etcd://nohostport")]
    [InlineData("/just/a/path")]
    public void Parse_BadEndpoint_ThrowsFormat(string url)
    {
        Assert.Throws<FormatException>(() => DatastoreEndpoint.Parse(url, "/data"));
    }

    [Fact]
    public async Task Migrate_SourceOpenByAnotherStore_FailsWithOneLine()
    {
        var serverData = Path.Combine(_directory.Path, "server");
        await using var serving = await OpenDataDirectoryAsync(serverData);
        await FillAsync(serving, 3);
        var source = "sqlite://" + DatastoreEndpoint.DefaultSqlitePath(serverData);
        var target = "sqlite://" + Path.Combine(_directory.Path, "copy.db");

        var (exit, _, error) = await RunAsync("datastore", "migrate", "--from", source, "--to", target);

        Assert.Equal(1, exit);
        Assert.Contains("in use", error, StringComparison.Ordinal);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Restore_DataDirectoryInUse_FailsAndKeepsServingFile()
    {
        var serverData = Path.Combine(_directory.Path, "server");
        var backup = Path.Combine(_directory.Path, "backup.db");
        await using (var other = await OpenDataDirectoryAsync(Path.Combine(_directory.Path, "other")))
        {
            await FillAsync(other, 1);
            await other.BackupAsync(backup, default);
        }

        await using var serving = await OpenDataDirectoryAsync(serverData);
        await FillAsync(serving, 2);

        var (exit, _, error) = await RunAsync("datastore", "restore", backup, "--data-dir", serverData, "--force");

        Assert.Equal(1, exit);
        Assert.Contains("in use", error, StringComparison.Ordinal);
        await AssertFilledAsync(serving, 2);
    }

    [Theory]
    [InlineData("https://127.0.0.1:2379,https://10.0.0.2:2379", null, true, "127.0.0.1:2379,10.0.0.2:2379")]
    [InlineData("http://127.0.0.1:2379", null, false, "127.0.0.1:2379")]
    [InlineData("etcd://127.0.0.1:2379", null, false, "127.0.0.1:2379")]
    [InlineData("etcd://127.0.0.1:2379", "/pki/ca.crt", true, "127.0.0.1:2379")]
    [InlineData("https://127.0.0.1:2379", "/pki/ca.crt", true, "127.0.0.1:2379")]
    public void Parse_EtcdEndpointWithTls_SpeaksTlsWhenAsked(string url, string? caFile, bool useTls, string address)
    {
        var endpoint = DatastoreEndpoint.Parse(url, "/data", new DatastoreTls(caFile, null, null));

        Assert.Equal(DatastoreEndpoint.EtcdScheme, endpoint.Scheme);
        Assert.Equal(address, endpoint.Address);
        Assert.Equal(useTls, endpoint.UseTls);
        Assert.Equal(caFile, endpoint.Tls?.CaFile);
    }

    [Theory]
    [InlineData("http://127.0.0.1:2379")]
    [InlineData("sqlite:///var/x.db")]
    [InlineData(null)]
    public void Parse_TlsFilesForEndpointWithoutTls_ThrowsFormat(string? url) =>
        Assert.Throws<FormatException>(() => DatastoreEndpoint.Parse(url, "/data", new DatastoreTls("/pki/ca.crt", null, null)));
}
