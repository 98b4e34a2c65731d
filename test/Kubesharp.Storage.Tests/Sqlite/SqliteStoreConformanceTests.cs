using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Storage.Tests.Sqlite;

public sealed class SqliteStoreConformanceTests : StoreConformanceTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override async Task<IStore> OpenEmptyStoreAsync() =>
        await SqliteStore.OpenAsync(
            new SqliteStoreOptions
            {
                Path = Path.Combine(_directory.Path, "state.db"),
                // A small buffer makes the slow-watcher test exercise the catch-up path.
                WatchBufferBatches = 8,
                CompactionInterval = TimeSpan.Zero,
            },
            default);

    public void Dispose() => _directory.Dispose();
}
