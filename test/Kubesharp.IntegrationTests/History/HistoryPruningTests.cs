using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.ApiServer.History;
using Kubesharp.ApiServer.Registry;
using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;
using Kubesharp.Storage.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.History;

/// <summary>
/// History over a real SQLite store with fake time: pruning compacts the store where the window opens (each object keeps
/// how it looked then), deletions past it leave the deleted list, under churn the size bound holds with the newest
/// revisions kept, and the journal of who and when costs a few bytes per write.
/// </summary>
public sealed class HistoryPruningTests : IAsyncLifetime
{
    private static readonly Kubesharp.ApiMachinery.Discovery.ApiResource ConfigMaps = ApiCatalog.Resources.First(r => r.GroupResource == "configmaps");
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-prune-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new();
    private SqliteStore _store = null!;

    public async Task InitializeAsync() =>
        _store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dataDir, "state.db") }, CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task Prune_PastRetention_KeepsWindowAndTheStateWhenItOpens()
    {
        using var history = New(new HistoryOptions { Retention = TimeSpan.FromHours(1) });
        var first = await WriteAsync(history, "kept", "a");
        await WriteAsync(history, "kept", "b");
        var opening = await WriteAsync(history, "kept", "c");
        await WriteAsync(history, "gone", "x");
        await DeleteAsync(history, "gone");
        _time.Advance(TimeSpan.FromHours(2));
        var latest = await WriteAsync(history, "kept", "d");
        await WriteAsync(history, "recent", "y");
        await DeleteAsync(history, "recent");

        var usage = await history.PruneAsync(CancellationToken.None);

        Assert.Equal(3, usage.Revisions);
        Assert.Equal(usage.CompactedRevision, await _store.GetCompactedRevisionAsync(CancellationToken.None));
        await Assert.ThrowsAsync<CompactedException>(() => _store.GetAsync(Key("kept"), first, CancellationToken.None));
        var kept = await history.ReadAsync(Key("kept"), "default", CancellationToken.None);
        Assert.Equal([opening, latest], kept.Select(r => (long)r["revision"]!));
        Assert.Equal(["c", "d"], kept.Select(r => (string?)r["object"]!["data"]!["v"]));
        Assert.Empty(await history.ReadAsync(Key("gone"), "default", CancellationToken.None));
        Assert.Equal(["ADDED", "DELETED"], (await history.ReadAsync(Key("recent"), "default", CancellationToken.None)).Select(r => (string?)r["type"]));
        Assert.Equal(["recent"], (await history.DeletionsAsync("default", CancellationToken.None)).Select(d => (string?)d["name"]));
    }

    [Fact]
    public async Task Record_ChurnBeyondSizeBound_PrunedWithoutWaitingAndNewestKept()
    {
        const long maxBytes = 64 * 1024;
        using var history = New(new HistoryOptions { Retention = TimeSpan.FromDays(7), MaxBytes = maxBytes, PruneInterval = TimeSpan.FromDays(1) });
        var payload = new string('x', 1024);
        var first = await WriteAsync(history, "churn", payload);
        long last = 0;
        for (var i = 0; i < 300; i++)
        {
            last = await WriteAsync(history, "churn", payload + i);
        }

        // Nothing advances time: the bound is kept by pruning that heavy writing starts on its own.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await history.ReadAsync(Key("churn"), "default", CancellationToken.None)).Count > 100)
        {
            Assert.True(DateTime.UtcNow < deadline, "the store still holds the revisions of the whole churn");
            await Task.Delay(50);
        }

        var usage = await history.PruneAsync(CancellationToken.None);
        Assert.InRange(usage.Bytes, maxBytes / 2, maxBytes);
        await Assert.ThrowsAsync<CompactedException>(() => _store.GetAsync(Key("churn"), first, CancellationToken.None));
        var kept = await history.ReadAsync(Key("churn"), "default", CancellationToken.None);
        Assert.Equal(last, (long)kept[^1]["revision"]!);
        Assert.InRange(kept.Count, 30, 60);
        Assert.Equal(payload + "299", (string?)kept[^1]["object"]!["data"]!["v"]);
    }

    [Fact]
    public async Task Record_Churn_JournalCostsAFewBytesPerWriteAndNoSecondCopy()
    {
        using var history = New(new HistoryOptions { Retention = TimeSpan.FromDays(7) });
        var payload = new string('x', 256);
        long objectBytes = 0;
        for (var i = 0; i < 200; i++)
        {
            await WriteAsync(history, "map-" + (i % 20), payload + i);
            objectBytes += (await _store.GetAsync(Key("map-" + (i % 20)), 0, CancellationToken.None))!.Value.Length;
        }

        await history.FlushAsync(CancellationToken.None);

        var kept = (await _store.ListAsync("/kubesharp/", new ListOptions(), CancellationToken.None)).Items;
        var journalBytes = kept.Sum(i => (long)(Encoding.UTF8.GetByteCount(i.Key) + i.Value.Length));
        Assert.All(kept, i => Assert.StartsWith(HistoryJournal.Prefix, i.Key, StringComparison.Ordinal));
        Assert.InRange(journalBytes, 1, objectBytes / 20);
        var revisions = await history.ReadAsync(Key("map-3"), "default", CancellationToken.None);
        Assert.Equal(10, revisions.Count);
        Assert.All(revisions, r => Assert.Equal(ObjectHistory.ServerUser, (string?)r["user"]));
        Assert.Equal(_time.GetUtcNow().UtcDateTime, DateTime.Parse((string)revisions[^1]["time"]!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Read_AfterFlushByAnotherInstance_UserTimeAndManagerFromTheJournal()
    {
        var revision = 0L;
        using (var writer = New(new HistoryOptions { Retention = TimeSpan.FromDays(7) }))
        {
            var obj = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = "m", ["namespace"] = "default", ["managedFields"] = new JsonArray(new JsonObject { ["manager"] = "editor", ["operation"] = "Update" }) } };
            var stored = await _store.CreateAsync(Key("m"), ResourceRegistry.Serialize(obj), CancellationToken.None);
            revision = stored.ModRevision;
            await writer.RecordAsync(ConfigMaps, "default", "m", Key("m"), HistoryChange.Added, stored, obj, null, new Kubesharp.ApiServer.Security.UserInfo("alice", []));
            await writer.FlushAsync(CancellationToken.None);
        }

        using var reader = New(new HistoryOptions { Retention = TimeSpan.FromDays(7) });
        var record = Assert.Single(await reader.ReadAsync(Key("m"), "default", CancellationToken.None));
        Assert.Equal(revision, (long)record["revision"]!);
        Assert.Equal("alice", (string?)record["user"]);
        Assert.Equal("editor", (string?)record["manager"]);
        Assert.Equal("ADDED", (string?)record["type"]);
    }

    private ObjectHistory New(HistoryOptions options) => new(_store, options, _ => false, _time, NullLogger<ObjectHistory>.Instance);

    private static string Key(string name) => $"/registry/configmaps/default/{name}";

    /// <summary>Writes a ConfigMap to the store and records it as the registry does after a write.</summary>
    private async Task<long> WriteAsync(ObjectHistory history, string name, string value)
    {
        var obj = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" }, ["data"] = new JsonObject { ["v"] = value } };
        var current = await _store.GetAsync(Key(name), 0, CancellationToken.None);
        var stored = current is null
            ? await _store.CreateAsync(Key(name), ResourceRegistry.Serialize(obj), CancellationToken.None)
            : await _store.UpdateAsync(Key(name), ResourceRegistry.Serialize(obj), current.ModRevision, CancellationToken.None);
        await history.RecordAsync(ConfigMaps, "default", name, Key(name), current is null ? HistoryChange.Added : HistoryChange.Modified, stored, obj, null, null);
        return stored.ModRevision;
    }

    private async Task DeleteAsync(ObjectHistory history, string name)
    {
        var deleted = await _store.DeleteAsync(Key(name), 0, CancellationToken.None);
        await history.RecordAsync(ConfigMaps, "default", name, Key(name), HistoryChange.Deleted, deleted, null, null, null);
    }
}
