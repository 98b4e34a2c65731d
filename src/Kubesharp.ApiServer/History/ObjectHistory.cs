using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Security;
using Kubesharp.Storage;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.History;

/// <summary>
/// Every revision of every object for a retention window, kept by the API server in a keyspace of its own in the
/// store: <c>/kubesharp/history/RESOURCE/[NAMESPACE/]NAME/REVISION</c> holds one <see cref="HistoryRecord"/> per
/// write, written right after the write it records; <c>/kubesharp/deleted/NAMESPACE/REVISION</c> indexes deletions
/// per namespace. The same keys on SQLite and etcd, through <see cref="IStore"/>, so the store seam does not grow and
/// the store's own compaction keeps its short window.
/// </summary>
internal sealed partial class ObjectHistory(IStore store, HistoryOptions options, Func<string, bool> encrypted, TimeProvider timeProvider, ILogger<ObjectHistory> logger) : IDisposable
{
    public const string Prefix = "/kubesharp/history/";
    public const string DeletedPrefix = "/kubesharp/deleted/";

    /// <summary>The user of the server's own writes (bootstrap, upkeep), as upstream's loopback client names it.</summary>
    public const string ServerUser = "system:apiserver";

    /// <summary>The namespace segment of cluster-scoped deletions: no namespace can be named so.</summary>
    private const string ClusterScope = "-";

    private const int PageSize = 500;

    private readonly SemaphoreSlim _pruning = new(1, 1);
    private long _bytesSincePrune;
    private int _pruneQueued;

    public HistoryOptions Options => options;

    /// <summary>
    /// Whether history of this resource is kept. Events and leases change by design and expire on their own; secrets
    /// and whatever the encryption configuration covers are not copied out of encryption's reach.
    /// </summary>
    public bool Keeps(ApiResource resource) =>
        options.Enabled
        && resource.GroupResource is not ("secrets" or "events" or "events.events.k8s.io" or "leases.coordination.k8s.io")
        && !encrypted(resource.GroupResource);

    /// <summary>Where the revisions of the object stored at <paramref name="storageKey"/> are kept.</summary>
    public static string ObjectPrefix(string storageKey) => Prefix + storageKey[WatchCache.RegistryPrefix.Length..] + "/";

    private static string Revision(long revision) => revision.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>
    /// Records a write the server has made. The write happened: a failure here is logged, never the client's. Not
    /// cancelled with the request, so a client that goes away does not leave a gap.
    /// </summary>
    public async Task RecordAsync(ApiResource resource, string? @namespace, string name, string storageKey, string type, KeyValue stored, JsonObject? after, JsonObject? before, UserInfo? user)
    {
        if (!Keeps(resource) || stored.ReadError is not null)
        {
            // A value no key could read is no JSON to keep.
            return;
        }

        var record = new HistoryRecord(stored.ModRevision, timeProvider.GetUtcNow(), type, user?.Name ?? ServerUser, type == HistoryChange.Deleted ? null : ManagerOf(after, before));
        try
        {
            var encoded = record.Encode(stored.Value.Span);
            await store.CreateAsync(ObjectPrefix(storageKey) + Revision(stored.ModRevision), encoded, CancellationToken.None).ConfigureAwait(false);
            if (type == HistoryChange.Deleted)
            {
                await store.CreateAsync(DeletedPrefix + (@namespace ?? ClusterScope) + "/" + Revision(stored.ModRevision), EncodeDeletion(record, resource, @namespace, name, storageKey), CancellationToken.None).ConfigureAwait(false);
            }

            // Heavy churn does not wait for the next scheduled prune to respect the size bound.
            if (Interlocked.Add(ref _bytesSincePrune, encoded.Length) > options.MaxBytes / 4 && Interlocked.Exchange(ref _pruneQueued, 1) == 0)
            {
                _ = Task.Run(() => PruneQuietlyAsync(CancellationToken.None), CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRecordFailed(logger, storageKey, stored.ModRevision, ex);
        }
    }

    /// <summary>
    /// The field manager of a write: the managedFields entry it added or changed. Null when the write stamped none
    /// (a server write, a delete), and the user is shown instead.
    /// </summary>
    internal static string? ManagerOf(JsonObject? after, JsonObject? before)
    {
        if (after?["metadata"]?["managedFields"] is not JsonArray entries)
        {
            return null;
        }

        var previous = before?["metadata"]?["managedFields"] as JsonArray;
        foreach (var entry in entries)
        {
            if (entry is JsonObject changed && (previous is null || !previous.Any(p => JsonNode.DeepEquals(p, changed))) && (string?)changed["manager"] is { Length: > 0 } manager)
            {
                return manager;
            }
        }

        return null;
    }

    private static byte[] EncodeDeletion(HistoryRecord record, ApiResource resource, string? @namespace, string name, string storageKey)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            record.WriteHeader(writer);
            writer.WriteString("apiVersion", resource.ApiVersion);
            writer.WriteString("kind", resource.Kind);
            writer.WriteString("resource", resource.Resource);
            if (@namespace is not null)
            {
                writer.WriteString("namespace", @namespace);
            }

            writer.WriteString("name", name);
            writer.WriteString("storageKey", storageKey);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The revisions of one object, oldest first, each with its object.</summary>
    public async Task<List<JsonObject>> ReadAsync(string storageKey, CancellationToken cancellationToken)
    {
        var records = new List<JsonObject>();
        await foreach (var item in ScanAsync(ObjectPrefix(storageKey), cancellationToken).ConfigureAwait(false))
        {
            if (HistoryRecord.Decode(item.Value.Span) is { } record)
            {
                records.Add(record);
            }
        }

        return records;
    }

    /// <summary>Deletions in one namespace ("" = cluster-scoped objects, null = everywhere), oldest first.</summary>
    public async Task<List<JsonObject>> DeletionsAsync(string? @namespace, CancellationToken cancellationToken)
    {
        var prefix = DeletedPrefix + (@namespace is null ? string.Empty : (@namespace.Length == 0 ? ClusterScope : @namespace) + "/");
        var deletions = new List<JsonObject>();
        await foreach (var item in ScanAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (JsonNode.Parse(item.Value.Span) is JsonObject deletion)
            {
                deletions.Add(deletion);
            }
        }

        return deletions;
    }

    private async IAsyncEnumerable<KeyValue> ScanAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            var page = await store.ListAsync(prefix, new ListOptions(0, PageSize, after), cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            if (!page.More || page.Items.Count == 0)
            {
                yield break;
            }

            after = page.Items[^1].Key;
        }
    }

    /// <summary>
    /// Removes revisions older than the retention window (keeping, per object, the newest one before the window unless
    /// it is the deletion: it is how the object looked when the window opens), then the oldest revisions of all while
    /// history holds more than its size bound, and the deletion index entries of removed deletions.
    /// </summary>
    public async Task<HistoryUsage> PruneAsync(CancellationToken cancellationToken)
    {
        await _pruning.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Exchange(ref _bytesSincePrune, 0);
            Volatile.Write(ref _pruneQueued, 0);
            var cutoff = timeProvider.GetUtcNow() - options.Retention;
            var records = new List<(string Key, string Object, HistoryRecord Header, int Size)>();
            await foreach (var item in ScanAsync(Prefix, cancellationToken).ConfigureAwait(false))
            {
                if (HistoryRecord.DecodeHeader(item.Value.Span) is { } header)
                {
                    records.Add((item.Key, item.Key[..(item.Key.LastIndexOf('/') + 1)], header, item.Key.Length + item.Value.Length));
                }
            }

            var doomed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var revisions in records.GroupBy(r => r.Object, StringComparer.Ordinal))
            {
                var old = revisions.Where(r => r.Header.Time < cutoff).OrderBy(r => r.Header.Revision).ToList();
                var keep = old.Count > 0 && old[^1].Header.Type != HistoryChange.Deleted ? 1 : 0;
                doomed.UnionWith(old.Take(old.Count - keep).Select(r => r.Key));
            }

            var kept = records.Where(r => !doomed.Contains(r.Key)).OrderBy(r => r.Header.Revision).ToList();
            var bytes = kept.Sum(r => (long)r.Size);
            var count = kept.Count;
            foreach (var record in kept)
            {
                if (bytes <= options.MaxBytes)
                {
                    break;
                }

                doomed.Add(record.Key);
                bytes -= record.Size;
                count--;
            }

            foreach (var key in doomed)
            {
                await DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }

            await foreach (var item in ScanAsync(DeletedPrefix, cancellationToken).ConfigureAwait(false))
            {
                if (JsonNode.Parse(item.Value.Span) is JsonObject deletion && (string?)deletion["storageKey"] is { } storageKey
                    && HistoryRecord.DecodeHeader(item.Value.Span) is { } header
                    && (header.Time < cutoff || doomed.Contains(ObjectPrefix(storageKey) + Revision(header.Revision))))
                {
                    await DeleteAsync(item.Key, cancellationToken).ConfigureAwait(false);
                }
            }

            if (doomed.Count > 0)
            {
                LogPruned(logger, doomed.Count, count, bytes);
            }

            return new HistoryUsage(count, bytes, doomed.Count);
        }
        finally
        {
            _pruning.Release();
        }
    }

    public void Dispose() => _pruning.Dispose();

    private async Task PruneQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await PruneAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogPruneFailed(logger, ex);
        }
    }

    private async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await store.DeleteAsync(key, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (KeyNotFoundStorageException)
        {
            // Another server of the cluster pruned it first.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "History of {Key} at revision {Revision} was not recorded")]
    private static partial void LogRecordFailed(ILogger logger, string key, long revision, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "History pruned: {Removed} revisions removed, {Kept} revisions in {Bytes} bytes kept")]
    private static partial void LogPruned(ILogger logger, int removed, int kept, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "History pruning failed")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

/// <summary>What history holds after a prune, and what the prune removed.</summary>
internal sealed record HistoryUsage(int Revisions, long Bytes, int Removed);
