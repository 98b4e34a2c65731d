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
/// History pruning over a real SQLite store with fake time: revisions past the retention window go (each object keeps
/// how it looked when the window opens), deletions past it leave the deleted list, and under churn the size bound holds
/// with the newest revisions kept.
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
        await WriteAsync(history, "kept", "a");
        await WriteAsync(history, "kept", "b");
        var opening = await WriteAsync(history, "kept", "c");
        await WriteAsync(history, "gone", "x");
        await DeleteAsync(history, "gone");
        _time.Advance(TimeSpan.FromHours(2));
        var latest = await WriteAsync(history, "kept", "d");
        await WriteAsync(history, "recent", "y");
        await DeleteAsync(history, "recent");

        var usage = await history.PruneAsync(CancellationToken.None);

        Assert.Equal(4, usage.Removed);
        var kept = await history.ReadAsync(Key("kept"), CancellationToken.None);
        Assert.Equal([opening, latest], kept.Select(r => (long)r["revision"]!));
        Assert.Equal(["c", "d"], kept.Select(r => (string?)r["object"]!["data"]!["v"]));
        Assert.Empty(await history.ReadAsync(Key("gone"), CancellationToken.None));
        Assert.Equal(2, (await history.ReadAsync(Key("recent"), CancellationToken.None)).Count);
        Assert.Equal(["recent"], (await history.DeletionsAsync("default", CancellationToken.None)).Select(d => (string?)d["name"]));
        Assert.Equal(usage.Bytes, await HistoryBytesAsync());
    }

    [Fact]
    public async Task Record_ChurnBeyondSizeBound_PrunedWithoutWaitingAndNewestKept()
    {
        const long maxBytes = 64 * 1024;
        using var history = New(new HistoryOptions { Retention = TimeSpan.FromDays(7), MaxBytes = maxBytes, PruneInterval = TimeSpan.FromDays(1) });
        var payload = new string('x', 1024);
        long last = 0;
        for (var i = 0; i < 300; i++)
        {
            last = await WriteAsync(history, "churn", payload + i);
        }

        // Nothing advances time: the bound is kept by pruning that heavy writing starts on its own.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await HistoryBytesAsync() > maxBytes * 3 / 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"history still holds {await HistoryBytesAsync()} bytes");
            await Task.Delay(50);
        }

        var usage = await history.PruneAsync(CancellationToken.None);
        Assert.InRange(usage.Bytes, 1, maxBytes);
        Assert.Equal(usage.Bytes, await HistoryBytesAsync());
        var kept = (await history.ReadAsync(Key("churn"), CancellationToken.None)).Select(r => (long)r["revision"]!).ToList();
        Assert.Equal(last, kept[^1]);
        Assert.InRange(kept.Count, 30, 60);
        Assert.Equal(payload + "299", (string?)(await history.ReadAsync(Key("churn"), CancellationToken.None))[^1]["object"]!["data"]!["v"]);
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

    private async Task<long> HistoryBytesAsync()
    {
        var items = (await _store.ListAsync(ObjectHistory.Prefix, new ListOptions(), CancellationToken.None)).Items;
        return items.Sum(i => (long)(Encoding.UTF8.GetByteCount(i.Key) + i.Value.Length));
    }
}
