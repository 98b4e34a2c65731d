using Kubesharp.ApiServer.History;
using Kubesharp.IntegrationTests.ApiServer;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.IntegrationTests.History;

/// <summary>The journal of who wrote what, over a SQLite file: an entry stays readable while its chunk is written.</summary>
public sealed class HistoryJournalTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-journal-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dataDir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Find_WhileItsChunkIsBeingWritten_StillFindsTheEntry()
    {
        var sqlite = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dataDir, "state.db") }, CancellationToken.None);
        await using var store = new HeldStore(sqlite, holdPagedLists: false, holdCreatesUnder: HistoryJournal.Prefix);
        var journal = new HistoryJournal(store);
        journal.Add(new JournalEntry(7, DateTimeOffset.UnixEpoch, 100, "alice", "kubectl"));

        var flush = journal.FlushAsync(CancellationToken.None);
        Assert.False(flush.IsCompleted);
        Assert.Equal(0, journal.Buffered);
        Assert.Equal("alice", (await journal.FindAsync([7], CancellationToken.None))[7].User);

        store.Release();
        await flush;
        Assert.Equal("alice", (await journal.FindAsync([7], CancellationToken.None))[7].User);
        Assert.False((await journal.FindAsync([8], CancellationToken.None)).ContainsKey(8));
    }
}
