using System.Net;
using System.Net.Sockets;
using Kubesharp.Snapshots;
using Kubesharp.Storage.Sqlite;
using Kubesharp.Storage.Tests.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Storage.Tests;

/// <summary><c>kubesharp datastore snapshot save|list|restore</c> and the server's scheduled snapshots, on SQLite and a real etcd.</summary>
public sealed class SnapshotCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => DatastoreCommandTests.RunAsync(args);

    private static async Task<SqliteStore> OpenDataDirectoryAsync(string dataDirectory) =>
        await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = DatastoreEndpoint.DefaultSqlitePath(dataDirectory), CompactionInterval = TimeSpan.Zero }, default);

    [Fact]
    public async Task SnapshotSave_RunningSqliteServer_ListsItAndRestoresEveryKey()
    {
        var data = Path.Combine(_directory.Path, "server");
        await using (var serving = await OpenDataDirectoryAsync(data))
        {
            await DatastoreCommandTests.FillAsync(serving, 50);

            // The store stays open, as in a running server, while the snapshot is taken.
            var save = await RunAsync("datastore", "snapshot", "save", "--data-dir", data);
            Assert.True(save.ExitCode == 0, save.Error);
            Assert.Contains("saved snapshot on-demand-", save.Output, StringComparison.Ordinal);
            await serving.CreateAsync("/registry/things/after-snapshot", new byte[1], default);
        }

        var list = await RunAsync("datastore", "snapshot", "list", "--data-dir", data);
        Assert.True(list.ExitCode == 0, list.Error);
        var rows = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("NAME", rows[0], StringComparison.Ordinal);
        var row = Assert.Single(rows[1..]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("on-demand-", row[0], StringComparison.Ordinal);
        Assert.Equal("sqlite", row[1]);
        Assert.True(File.Exists(Path.Combine(data, "server", "db", "snapshots", row[0])));

        var refused = await RunAsync("datastore", "snapshot", "restore", row[0], "--data-dir", data);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--force", refused.Error, StringComparison.Ordinal);

        var restore = await RunAsync("datastore", "snapshot", "restore", row[0], "--data-dir", data, "--force");
        Assert.True(restore.ExitCode == 0, restore.Error);
        await using var restored = await OpenDataDirectoryAsync(data);
        await DatastoreCommandTests.AssertFilledAsync(restored, 50);
    }

    [Fact]
    public async Task SnapshotRestore_NotASnapshot_FailsWithMessage()
    {
        var bogus = Path.Combine(_directory.Path, "bogus");
        await File.WriteAllTextAsync(bogus, "neither SQLite nor bbolt, but long enough to read a header from");

        var (exit, _, error) = await RunAsync("datastore", "snapshot", "restore", bogus, "--data-dir", Path.Combine(_directory.Path, "data"));

        Assert.Equal(1, exit);
        Assert.Contains("neither a SQLite nor an etcd snapshot", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnapshotScheduler_HourlyWithRetentionTwo_KeepsTheNewestTwoScheduledSnapshots()
    {
        var data = Path.Combine(_directory.Path, "server");
        var time = new ManualTimeProvider();
        var snapshots = new DatastoreSnapshots(data, time);
        await using var store = await OpenDataDirectoryAsync(data);
        await DatastoreCommandTests.FillAsync(store, 10);

        // An on-demand snapshot is never pruned by the schedule's retention.
        var onDemand = await snapshots.SaveAsync(store, DatastoreSnapshots.OnDemandPrefix, default);
        using var stop = new CancellationTokenSource();
        var scheduler = new SnapshotScheduler(snapshots, store, "0 * * * *", 2, time, NullLogger.Instance);
        var running = scheduler.RunAsync(stop.Token);
        var expected = new List<string>();
        for (var hour = 1; hour <= 3; hour++)
        {
            await store.CreateAsync($"/registry/hours/h{hour}", new byte[1], default);
            time.Advance(TimeSpan.FromHours(1));
            var name = $"{DatastoreSnapshots.ScheduledPrefix}-{Environment.MachineName.ToLowerInvariant()}-{new DateTimeOffset(2025, 1, 1, hour, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds()}";
            expected.Add(name);
            await WaitUntilAsync(() => snapshots.List().Any(s => s.Name == name) && snapshots.List().Count(s => s.Name.StartsWith("scheduled-", StringComparison.Ordinal)) <= 2);
        }

        await stop.CancelAsync();
        await running;

        Assert.Equal([onDemand.Name, .. expected[1..]], snapshots.List().Select(s => s.Name));

        // The newest scheduled snapshot holds what was written before its hour.
        var restoredData = Path.Combine(_directory.Path, "restored");
        var restore = await RunAsync("datastore", "snapshot", "restore", snapshots.List()[^1].Path, "--data-dir", restoredData);
        Assert.True(restore.ExitCode == 0, restore.Error);
        await using var restored = await OpenDataDirectoryAsync(restoredData);
        Assert.Equal(3, (await restored.ListAsync("/registry/hours/", new ListOptions(), default)).Items.Count);
    }

    [Fact]
    public void SnapshotSchedule_NotFiveFields_IsRefused()
    {
        Assert.Null(SnapshotScheduler.Validate("0 */12 * * *"));
        Assert.Contains("expected exactly 5 fields", SnapshotScheduler.Validate("0 */12 * *"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnapshotSave_Etcd_RestoresIntoANewOneMemberCluster()
    {
        var etcd = new EtcdServer();
        await etcd.InitializeAsync();
        var data = Path.Combine(_directory.Path, "server");
        try
        {
            await using (var store = await etcd.OpenStoreAsync())
            {
                await DatastoreCommandTests.FillAsync(store, 40);
            }

            var save = await RunAsync("datastore", "snapshot", "save", "--name", "before-upgrade", "--data-dir", data, "--datastore-endpoint", "etcd://" + etcd.Endpoint);
            Assert.True(save.ExitCode == 0, save.Error);
        }
        finally
        {
            await etcd.DisposeAsync();
        }

        var list = await RunAsync("datastore", "snapshot", "list", "--data-dir", data);
        var row = Assert.Single(list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("before-upgrade-", row[0], StringComparison.Ordinal);
        Assert.Equal("etcd", row[1]);

        // The original etcd is gone; the snapshot becomes a new one-member cluster in another data directory.
        var restoredData = Path.Combine(_directory.Path, "restored");
        var peerPort = LoopbackPort.Free();
        var restore = await RunAsync(
            "datastore", "snapshot", "restore", Path.Combine(data, "server", "db", "snapshots", row[0]),
            "--data-dir", restoredData, "--etcd-peer-url", $"http://127.0.0.1:{peerPort}");
        Assert.True(restore.ExitCode == 0, restore.Error + restore.Output);
        var memberDir = Path.Combine(restoredData, "server", "etcd", "data");
        Assert.True(Directory.Exists(Path.Combine(memberDir, "member", "wal")));

        var name = (await File.ReadAllTextAsync(Path.Combine(restoredData, "server", "etcd", "name"))).Trim();
        var restoredEtcd = new EtcdServer(memberDir, name, peerPort);
        await restoredEtcd.InitializeAsync();
        try
        {
            await using var store = await restoredEtcd.OpenStoreAsync();
            await DatastoreCommandTests.AssertFilledAsync(store, 40);
            var members = await store.MemberListAsync(default);
            var member = Assert.Single(members.Members);
            Assert.Equal(name, member.Name);
        }
        finally
        {
            await restoredEtcd.DisposeAsync();
        }

        var again = await RunAsync("datastore", "snapshot", "restore", row[0], "--data-dir", data);
        Assert.Equal(0, again.ExitCode);
        var twice = await RunAsync("datastore", "snapshot", "restore", row[0], "--data-dir", data);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("--force", twice.Error, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, deadline.Token);
        }
    }
}
