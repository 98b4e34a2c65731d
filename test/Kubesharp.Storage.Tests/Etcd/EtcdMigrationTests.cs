using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Storage.Tests.Etcd;

public sealed class EtcdMigrationTests(EtcdServer etcd) : IClassFixture<EtcdServer>, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Migrate_SqliteToEtcdAndBack_EveryKeyArrivesBothWays()
    {
        var first = Path.Combine(_directory.Path, "first.db");
        var second = Path.Combine(_directory.Path, "second.db");
        await using (var source = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = first }, default))
        {
            await DatastoreCommandTests.FillAsync(source, 700);
        }

        var toEtcd = await DatastoreCommandTests.RunAsync("datastore", "migrate", "--from", "sqlite://" + first, "--to", "etcd://" + etcd.Endpoint);
        Assert.True(toEtcd.ExitCode == 0, toEtcd.Error);
        await using (var store = await etcd.OpenStoreAsync())
        {
            await DatastoreCommandTests.AssertFilledAsync(store, 700);
        }

        var fromEtcd = await DatastoreCommandTests.RunAsync("datastore", "migrate", "--from", "etcd://" + etcd.Endpoint, "--to", "sqlite://" + second);
        Assert.True(fromEtcd.ExitCode == 0, fromEtcd.Error);
        await using (var back = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = second }, default))
        {
            await DatastoreCommandTests.AssertFilledAsync(back, 700);
        }

        // A backup of the etcd datastore is a SQLite file that restore accepts.
        var backup = Path.Combine(_directory.Path, "etcd-backup.db");
        var backedUp = await DatastoreCommandTests.RunAsync("datastore", "backup", backup, "--datastore-endpoint", "etcd://" + etcd.Endpoint);
        Assert.True(backedUp.ExitCode == 0, backedUp.Error);
        var data = Path.Combine(_directory.Path, "data");
        Assert.Equal(0, (await DatastoreCommandTests.RunAsync("datastore", "restore", backup, "--data-dir", data)).ExitCode);
        await using var restored = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = DatastoreEndpoint.DefaultSqlitePath(data) }, default);
        await DatastoreCommandTests.AssertFilledAsync(restored, 700);
    }

    [Fact]
    public async Task Migrate_UnreachableEtcd_FailsWithMessage()
    {
        var from = Path.Combine(_directory.Path, "from.db");
        await using (var source = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = from }, default))
        {
            await DatastoreCommandTests.FillAsync(source, 1);
        }

        var (exit, _, error) = await DatastoreCommandTests.RunAsync("datastore", "migrate", "--from", "sqlite://" + from, "--to", "etcd://127.0.0.1:1");

        Assert.Equal(1, exit);
        Assert.Contains("unavailable", error, StringComparison.Ordinal);
    }
}
