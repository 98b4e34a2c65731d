using System.Text;
using Kubesharp.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kubesharp.Storage.Tests.Sqlite;

public sealed class SqliteStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => Path.Combine(_directory.Path, "db", "state.db");

    private Task<SqliteStore> OpenAsync(TimeProvider? time = null, TimeSpan? compactionInterval = null, long keep = 10_000) =>
        SqliteStore.OpenAsync(
            new SqliteStoreOptions
            {
                Path = DatabasePath,
                CompactionInterval = compactionInterval ?? TimeSpan.Zero,
                CompactionKeepRevisions = keep,
                CompactionBatchRevisions = 100,
                TimeProvider = time ?? TimeProvider.System,
            },
            default);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Open_ExistingFile_ResumesRevisionAndKeys()
    {
        long revision;
        await using (var store = await OpenAsync())
        {
            await store.CreateAsync("/a", Encoding.UTF8.GetBytes("one"), default);
            revision = (await store.DeleteAsync("/a", 0, default)).ModRevision;
            await store.CreateAsync("/b", Encoding.UTF8.GetBytes("two"), default);
        }

        await using (var reopened = await OpenAsync())
        {
            Assert.Equal(revision + 1, await reopened.GetCurrentRevisionAsync(default));
            Assert.Null(await reopened.GetAsync("/a", 0, default));
            var next = await reopened.CreateAsync("/c", Encoding.UTF8.GetBytes("three"), default);
            Assert.Equal(revision + 2, next.ModRevision);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DatabaseRemovedWhileOpen_RefusesWritesAndReportsProblem(bool wholeDirectory)
    {
        await using var store = await OpenAsync();
        var kept = await store.CreateAsync("/kept", Encoding.UTF8.GetBytes("one"), default);
        Assert.Null(store.Problem);

        if (wholeDirectory)
        {
            Directory.Delete(Path.GetDirectoryName(DatabasePath)!, recursive: true);
        }
        else
        {
            File.Delete(DatabasePath);
        }

        // SQLite would keep writing to the unlinked file; nothing may be acknowledged that a restart would lose.
        var refused = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.CreateAsync("/lost", Encoding.UTF8.GetBytes("two"), default));
        Assert.Contains("removed", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.UpdateAsync("/kept", Encoding.UTF8.GetBytes("three"), kept.ModRevision, default));
        Assert.Contains(DatabasePath, store.Problem, StringComparison.Ordinal);

        // The durable revision (which watchers are fed up to) never covered the refused writes.
        Assert.Equal(kept.ModRevision, await store.GetCurrentRevisionAsync(default));
    }

    [Fact]
    public async Task Open_ForeignSqliteFile_ThrowsStoreUnavailable()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE unrelated (x INTEGER)";
            await command.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAsync<StoreUnavailableException>(() => OpenAsync());
    }

    [Fact]
    public async Task Create_ManyConcurrentWriters_ShareCommits()
    {
        await using var store = await OpenAsync();
        var before = store.CommitCount;

        await Task.WhenAll(Enumerable.Range(0, 256).Select(i => store.CreateAsync($"/k{i}", new byte[16], default)));

        Assert.InRange(store.CommitCount - before, 1, 255);
    }

    [Fact]
    public async Task Compact_AfterChurn_ReclaimsFileAndLogSpace()
    {
        await using var store = await OpenAsync();
        var value = new byte[8192];
        var current = await store.CreateAsync("/churn", value, default);
        for (var round = 0; round < 25; round++)
        {
            var writes = Enumerable.Range(0, 40).Select(i => store.CreateAsync($"/tmp/{round}/{i}", value, default));
            await Task.WhenAll(writes);
            for (var i = 0; i < 40; i++)
            {
                await store.DeleteAsync($"/tmp/{round}/{i}", 0, default);
            }

            current = await store.UpdateAsync("/churn", value, current.ModRevision, default);
        }

        var grown = new FileInfo(DatabasePath).Length;
        await store.CompactAsync(await store.GetCurrentRevisionAsync(default), default);
        await store.ReclaimSpaceAsync(default);

        var file = new FileInfo(DatabasePath).Length;
        var log = new FileInfo(DatabasePath + "-wal");
        Assert.True(grown > 4_000_000, $"history should have grown the file, was {grown}");
        Assert.True(file < grown / 4, $"file {file} bytes after reclaim, {grown} before");
        Assert.True(!log.Exists || log.Length == 0, $"log {log.Length} bytes after checkpoint");
        Assert.NotNull(await store.GetAsync("/churn", 0, default));
        Assert.Single((await store.ListAsync("/", new ListOptions(), default)).Items);
    }

    [Fact]
    public async Task AutomaticCompaction_TimerFires_KeepsConfiguredRevisions()
    {
        var time = new ManualTimeProvider();
        await using var store = await OpenAsync(time, TimeSpan.FromMinutes(1), keep: 50);
        var current = await store.CreateAsync("/a", new byte[8], default);
        for (var i = 0; i < 300; i++)
        {
            current = await store.UpdateAsync("/a", new byte[8], current.ModRevision, default);
        }

        var expected = current.ModRevision - 50;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await store.GetCompactedRevisionAsync(default) < expected)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(10, cancel.Token);
        }

        Assert.Equal(expected, await store.GetCompactedRevisionAsync(default));
        await Assert.ThrowsAsync<CompactedException>(() => store.GetAsync("/a", expected - 1, default));
        Assert.NotNull(await store.GetAsync("/a", expected, default));
    }

    [Fact]
    public async Task Backup_WhileWritesContinue_CopyHoldsEveryEarlierWrite()
    {
        await using var store = await OpenAsync();
        for (var i = 0; i < 200; i++)
        {
            await store.CreateAsync($"/before/{i:D3}", Encoding.UTF8.GetBytes($"v{i}"), default);
        }

        using var stop = new CancellationTokenSource();
        var writing = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                await store.CreateAsync($"/during/{n++:D6}", new byte[64], default);
            }
        });
        var backup = Path.Combine(_directory.Path, "backup.db");
        await store.BackupAsync(backup, default);
        await stop.CancelAsync();
        await writing;

        await using var copy = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = backup, CompactionInterval = TimeSpan.Zero }, default);
        var before = await copy.ListAsync("/before/", new ListOptions(), default);
        Assert.Equal(200, before.Items.Count);
        var during = await copy.ListAsync("/during/", new ListOptions(), default);
        Assert.Equal(before.Revision, await copy.GetCurrentRevisionAsync(default));
        // A snapshot: the copied "during" keys are exactly a prefix of the sequence written.
        Assert.Equal(Enumerable.Range(0, during.Items.Count).Select(n => $"/during/{n:D6}"), during.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task Backup_ExistingDestination_ThrowsAndKeepsFile()
    {
        await using var store = await OpenAsync();
        var backup = Path.Combine(_directory.Path, "backup.db");
        await File.WriteAllTextAsync(backup, "keep");

        await Assert.ThrowsAsync<IOException>(() => store.BackupAsync(backup, default));

        Assert.Equal("keep", await File.ReadAllTextAsync(backup));
    }

    [Fact]
    public async Task Restore_DamagedBackup_ThrowsInvalidData()
    {
        var backup = Path.Combine(_directory.Path, "backup.db");
        await File.WriteAllBytesAsync(backup, new byte[8192]);

        await Assert.ThrowsAnyAsync<Exception>(() => SqliteBackup.RestoreFileAsync(backup, DatabasePath, overwrite: false, default));

        Assert.False(File.Exists(DatabasePath));
    }
}
