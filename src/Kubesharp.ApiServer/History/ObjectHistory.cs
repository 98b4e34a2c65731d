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
/// Every revision of every object for a retention window, read from the store's own revisions: while history is on,
/// the store is compacted here, at the revision where the window opens (or later when the size bound asks), instead of
/// a short way behind its head, so each write is kept once. What the store does not know of a write (when, by whom,
/// through which field manager) is in <see cref="HistoryJournal"/>, a few bytes per write; deletions are indexed per
/// namespace at <c>/kubesharp/deleted/NAMESPACE/REVISION</c>. The same keys on SQLite and etcd, through
/// <see cref="IStore"/>.
/// </summary>
internal sealed partial class ObjectHistory(IStore store, HistoryOptions options, Func<string, bool> encrypted, TimeProvider timeProvider, ILogger<ObjectHistory> logger) : IDisposable
{
    public const string DeletedPrefix = "/kubesharp/deleted/";

    /// <summary>The user of the server's own writes (bootstrap, upkeep), as upstream's loopback client names it.</summary>
    public const string ServerUser = "system:apiserver";

    /// <summary>The namespace segment of cluster-scoped deletions: no namespace can be named so.</summary>
    private const string ClusterScope = "-";

    /// <summary>The journal is written when this many writes are buffered, or at the next flush tick.</summary>
    private const int FlushEntries = 4096;

    private const int PageSize = 500;

    private readonly SemaphoreSlim _pruning = new(1, 1);
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly HistoryJournal _journal = new(store);
    private long _bytesSincePrune;
    private int _pruneQueued;
    private int _flushQueued;

    public HistoryOptions Options => options;

    /// <summary>
    /// Whether history of this resource is kept. Events and leases change by design and expire on their own; secrets
    /// and whatever the encryption configuration covers are not shown out of encryption's reach.
    /// </summary>
    public bool Keeps(ApiResource resource) =>
        options.Enabled
        && resource.GroupResource is not ("secrets" or "events" or "events.events.k8s.io" or "leases.coordination.k8s.io")
        && !encrypted(resource.GroupResource);

    private static string Revision(long revision) => HistoryJournal.Revision(revision);

    /// <summary>
    /// Records a write the server has made: an entry in the journal's buffer (every resource, so that the size bound
    /// counts all the store keeps), and for a deletion its index entry. The write happened: a failure here is logged,
    /// never the client's. Not cancelled with the request, so a client that goes away does not leave a gap.
    /// </summary>
    public async Task RecordAsync(ApiResource resource, string? @namespace, string name, string storageKey, string type, KeyValue stored, JsonObject? after, JsonObject? before, UserInfo? user)
    {
        if (!options.Enabled)
        {
            return;
        }

        var keeps = Keeps(resource) && stored.ReadError is null;
        var bytes = storageKey.Length + (type == HistoryChange.Deleted ? 0 : stored.Value.Length);
        var record = new HistoryRecord(stored.ModRevision, timeProvider.GetUtcNow(), type, user?.Name ?? ServerUser, type == HistoryChange.Deleted ? null : ManagerOf(after, before));
        _journal.Add(new JournalEntry(record.Revision, record.Time, bytes, keeps ? record.User : null, record.Manager));
        if (_journal.Buffered >= FlushEntries && Interlocked.Exchange(ref _flushQueued, 1) == 0)
        {
            StartQuietly(FlushAsync, LogFlushFailed);
        }

        // Heavy churn does not wait for the next scheduled prune to respect the size bound.
        if (Interlocked.Add(ref _bytesSincePrune, bytes) > options.MaxBytes / 4 && Interlocked.Exchange(ref _pruneQueued, 1) == 0)
        {
            StartQuietly(PruneAsync, LogPruneFailed);
        }

        if (type != HistoryChange.Deleted || !keeps)
        {
            return;
        }

        try
        {
            await store.CreateAsync(DeletedPrefix + (@namespace ?? ClusterScope) + "/" + Revision(stored.ModRevision), EncodeDeletion(record, resource, @namespace, name, storageKey), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRecordFailed(logger, storageKey, stored.ModRevision, ex);
        }
    }

    /// <summary>
    /// Brings history an earlier version kept (<see cref="EarlierHistoryRecords"/>) into today's form, once at start:
    /// a copied revision the store still holds becomes a journal entry (its time, user and manager) and the copy goes;
    /// one the store has compacted away stays, read as it is until it leaves the window. Run again after a crash, it
    /// finds the same chunks already written and carries on.
    /// </summary>
    public async Task UpgradeAsync(CancellationToken cancellationToken)
    {
        var entries = new List<JournalEntry>();
        var upgraded = new List<string>();
        var kept = 0;
        var deletions = new Dictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        string? current = null;
        SortedDictionary<long, (KeyValue Value, string Type, HistoryRecord? Deletion)> stored = [];
        await foreach (var item in ScanAsync(store, EarlierHistoryRecords.Prefix, cancellationToken).ConfigureAwait(false))
        {
            var storageKey = EarlierHistoryRecords.StorageKeyOf(item.Key);
            if (storageKey != current)
            {
                current = storageKey;
                var @namespace = storageKey.Count(c => c == '/') > 3 ? storageKey.Split('/')[3] : string.Empty;
                if (!deletions.TryGetValue(@namespace, out var inNamespace))
                {
                    deletions[@namespace] = inNamespace = await DeletionsAsync(@namespace, cancellationToken).ConfigureAwait(false);
                }

                stored = await StoredRevisionsAsync(storageKey, inNamespace, cancellationToken).ConfigureAwait(false);
            }

            if (HistoryRecord.DecodeHeader(item.Value.Span) is not { } header)
            {
                upgraded.Add(item.Key);
            }
            else if (stored.TryGetValue(header.Revision, out var revision))
            {
                var bytes = storageKey.Length + (header.Type == HistoryChange.Deleted ? 0 : revision.Value.Value.Length);
                entries.Add(new JournalEntry(header.Revision, header.Time, bytes, header.User, header.Manager));
                upgraded.Add(item.Key);
            }
            else
            {
                kept++;
            }
        }

        if (upgraded.Count == 0 && kept == 0)
        {
            return;
        }

        await _journal.WriteAsync(entries, FlushEntries, cancellationToken).ConfigureAwait(false);
        foreach (var key in upgraded)
        {
            await DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }

        LogUpgraded(logger, upgraded.Count, kept);
    }

    /// <summary>Removes history an earlier version kept, when this server keeps none: nothing would read or prune it.</summary>
    public static async Task RemoveEarlierRecordsAsync(IStore store, ILogger logger, CancellationToken cancellationToken)
    {
        var removed = 0;
        await foreach (var item in ScanAsync(store, EarlierHistoryRecords.Prefix, cancellationToken).ConfigureAwait(false))
        {
            await DeleteAsync(store, item.Key, cancellationToken).ConfigureAwait(false);
            removed++;
        }

        if (removed > 0)
        {
            LogEarlierRemoved(logger, removed);
        }
    }

    /// <summary>Writes the journal's buffered entries (every second, when many are buffered, and when the server stops).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _flushQueued, 0);
            await _journal.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Runs upkeep in the background; a failure is logged, and the next write or tick tries again.</summary>
    private void StartQuietly(Func<CancellationToken, Task> work, Action<ILogger, Exception> log) =>
        _ = Task.Run(
            async () =>
            {
                try
                {
                    await work(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    log(logger, ex);
                }
            },
            CancellationToken.None);

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

    /// <summary>
    /// The revisions of one object, oldest first, each with its object: the store's revisions of the key, walked back
    /// from its current value and from each indexed deletion, down to the compacted revision (the newest one at or below
    /// it is how the object looked when the window opened).
    /// </summary>
    /// <param name="namespace">The object's namespace; null for a cluster-scoped object.</param>
    public async Task<List<JsonObject>> ReadAsync(string storageKey, string? @namespace, CancellationToken cancellationToken)
    {
        var found = await StoredRevisionsAsync(storageKey, await DeletionsAsync(@namespace ?? string.Empty, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var journal = await _journal.FindAsync(found.Where(f => f.Value.Deletion is null).Select(f => f.Key), cancellationToken).ConfigureAwait(false);
        var records = new List<JsonObject>(found.Count);
        foreach (var (revision, (value, type, deletion)) in found)
        {
            if (JsonNode.Parse(value.Value.Span) is not JsonObject obj)
            {
                continue;
            }

            if (obj["metadata"] is JsonObject meta)
            {
                meta["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
            }

            var record = new JsonObject { ["revision"] = revision };
            if (deletion is not null)
            {
                record["time"] = HistoryRecord.FormatTime(deletion.Time);
                record["type"] = type;
                record["user"] = deletion.User;
            }
            else if (journal.TryGetValue(revision, out var entry))
            {
                record["time"] = HistoryRecord.FormatTime(entry.Time);
                record["type"] = type;
                record["user"] = entry.User;
                if (entry.Manager is not null)
                {
                    record["manager"] = entry.Manager;
                }
            }
            else
            {
                // A revision from before the journal's window (or from the last second before a crash): its time is the
                // newest the object itself names, and who made it is not known.
                record["time"] = HistoryRecord.FormatTime(TimeOf(obj));
                record["type"] = type;
            }

            record["object"] = obj;
            records.Add(record);
        }

        // Revisions an earlier version copied and the store has compacted away since.
        var earlier = false;
        await foreach (var item in ScanAsync(store, EarlierHistoryRecords.ObjectPrefix(storageKey), cancellationToken).ConfigureAwait(false))
        {
            if (EarlierHistoryRecords.Decode(item.Value.Span) is { } copy && !found.ContainsKey(copy.Header.Revision))
            {
                records.Add(copy.Record);
                earlier = true;
            }
        }

        if (earlier)
        {
            records.Sort((a, b) => ((long?)a["revision"] ?? 0).CompareTo((long?)b["revision"] ?? 0));
        }

        return records;
    }

    /// <summary>The revisions of one key the store still holds, with what each was (a deletion with its index entry).</summary>
    private async Task<SortedDictionary<long, (KeyValue Value, string Type, HistoryRecord? Deletion)>> StoredRevisionsAsync(string storageKey, List<JsonObject> deletions, CancellationToken cancellationToken)
    {
        var found = new SortedDictionary<long, (KeyValue Value, string Type, HistoryRecord? Deletion)>();
        if (await store.GetAsync(storageKey, 0, cancellationToken).ConfigureAwait(false) is { } latest)
        {
            await WalkAsync(latest, found, cancellationToken).ConfigureAwait(false);
        }

        foreach (var deletion in deletions)
        {
            if ((string?)deletion["storageKey"] != storageKey || HistoryRecord.DecodeHeader(deletion) is not { } header || found.ContainsKey(header.Revision)
                || await GetAtAsync(storageKey, header.Revision - 1, cancellationToken).ConfigureAwait(false) is not { } last)
            {
                continue;
            }

            found[header.Revision] = (last, HistoryChange.Deleted, header);
            await WalkAsync(last, found, cancellationToken).ConfigureAwait(false);
        }

        return found;
    }

    private async Task WalkAsync(KeyValue value, SortedDictionary<long, (KeyValue, string, HistoryRecord?)> found, CancellationToken cancellationToken)
    {
        while (true)
        {
            var added = value.ModRevision == value.CreateRevision;
            found.TryAdd(value.ModRevision, (value, added ? HistoryChange.Added : HistoryChange.Modified, null));
            if (added || await GetAtAsync(value.Key, value.ModRevision - 1, cancellationToken).ConfigureAwait(false) is not { } previous || previous.ModRevision >= value.ModRevision)
            {
                return;
            }

            value = previous;
        }
    }

    /// <summary>The key at a revision; null when absent then or compacted away.</summary>
    private async Task<KeyValue?> GetAtAsync(string key, long revision, CancellationToken cancellationToken)
    {
        if (revision <= 0)
        {
            return null;
        }

        try
        {
            return await store.GetAsync(key, revision, cancellationToken).ConfigureAwait(false);
        }
        catch (CompactedException)
        {
            return null;
        }
    }

    private static DateTimeOffset TimeOf(JsonObject obj)
    {
        var times = new List<DateTimeOffset>();
        if (obj["metadata"]?["managedFields"] is JsonArray entries)
        {
            times.AddRange(entries.Select(e => (string?)e?["time"]).OfType<string>().Select(ParseTime).OfType<DateTimeOffset>());
        }

        if ((string?)obj["metadata"]?["creationTimestamp"] is { } created && ParseTime(created) is { } creation)
        {
            times.Add(creation);
        }

        return times.Count > 0 ? times.Max() : DateTimeOffset.UnixEpoch;
    }

    private static DateTimeOffset? ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null;

    /// <summary>Deletions in one namespace ("" = cluster-scoped objects, null = everywhere), oldest first.</summary>
    public async Task<List<JsonObject>> DeletionsAsync(string? @namespace, CancellationToken cancellationToken)
    {
        var prefix = DeletedPrefix + (@namespace is null ? string.Empty : (@namespace.Length == 0 ? ClusterScope : @namespace) + "/");
        var deletions = new List<JsonObject>();
        await foreach (var item in ScanAsync(store, prefix, cancellationToken).ConfigureAwait(false))
        {
            if (JsonNode.Parse(item.Value.Span) is JsonObject deletion)
            {
                deletions.Add(deletion);
            }
        }

        return deletions;
    }

    private static async IAsyncEnumerable<KeyValue> ScanAsync(IStore store, string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
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
    /// Compacts the store where the window opens: at the newest revision older than the retention, or later while the
    /// writes after it (their bytes in the store, as journaled) exceed the size bound. The store keeps each key's newest
    /// value at or below that revision, so every object keeps how it looked when the window opens and deletions before
    /// it are forgotten; journal chunks and deletion index entries at or below it go too.
    /// </summary>
    public async Task<HistoryUsage> PruneAsync(CancellationToken cancellationToken)
    {
        await _pruning.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Exchange(ref _bytesSincePrune, 0);
            Volatile.Write(ref _pruneQueued, 0);
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            var cutoff = timeProvider.GetUtcNow() - options.Retention;
            var chunks = new List<(string Key, long Newest)>();
            var entries = new List<JournalEntry>();
            await foreach (var (key, chunk) in _journal.ScanAsync(cancellationToken).ConfigureAwait(false))
            {
                if (chunk.Count > 0)
                {
                    chunks.Add((key, chunk[^1].Revision));
                    entries.AddRange(chunk);
                }
            }

            entries.Sort((a, b) => a.Revision.CompareTo(b.Revision));
            var compacted = await store.GetCompactedRevisionAsync(cancellationToken).ConfigureAwait(false);

            // The window opens after the last write older than the retention that no younger write precedes.
            var edge = compacted;
            foreach (var entry in entries)
            {
                if (entry.Time >= cutoff)
                {
                    break;
                }

                edge = Math.Max(edge, entry.Revision);
            }

            long bytes = 0;
            for (var i = entries.Count - 1; i >= 0 && entries[i].Revision > edge; i--)
            {
                if (bytes + entries[i].Bytes > options.MaxBytes)
                {
                    edge = entries[i].Revision;
                    break;
                }

                bytes += entries[i].Bytes;
            }

            // Copies an earlier version made of revisions the store no longer holds go when they leave the window.
            await foreach (var item in ScanAsync(store, EarlierHistoryRecords.Prefix, cancellationToken).ConfigureAwait(false))
            {
                if (HistoryRecord.DecodeHeader(item.Value.Span) is not { } header || header.Time < cutoff)
                {
                    await DeleteAsync(item.Key, cancellationToken).ConfigureAwait(false);
                }
            }

            var kept = entries.Where(e => e.Revision > edge).ToList();
            var keptBytes = kept.Sum(e => (long)e.Bytes);
            if (edge > compacted)
            {
                await store.CompactAsync(edge, cancellationToken).ConfigureAwait(false);
                foreach (var (key, _) in chunks.Where(c => c.Newest <= edge))
                {
                    await DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                }

                await foreach (var item in ScanAsync(store, DeletedPrefix, cancellationToken).ConfigureAwait(false))
                {
                    if (HistoryRecord.DecodeHeader(item.Value.Span) is { } header && header.Revision <= edge)
                    {
                        await DeleteAsync(item.Key, cancellationToken).ConfigureAwait(false);
                    }
                }

                LogPruned(logger, edge, kept.Count, keptBytes);
            }

            return new HistoryUsage(kept.Count, keptBytes, edge);
        }
        finally
        {
            _pruning.Release();
        }
    }

    public void Dispose()
    {
        _pruning.Dispose();
        _flushing.Dispose();
    }

    private Task DeleteAsync(string key, CancellationToken cancellationToken) => DeleteAsync(store, key, cancellationToken);

    private static async Task DeleteAsync(IStore store, string key, CancellationToken cancellationToken)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The history journal was not written; it is tried again")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "History pruned: store compacted at revision {Revision}, {Kept} revisions in {Bytes} bytes kept")]
    private static partial void LogPruned(ILogger logger, long revision, int kept, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "History of an earlier format upgraded: {Upgraded} revisions now read from the store and its journal, {Kept} the store no longer holds kept as they were until they leave the window")]
    private static partial void LogUpgraded(ILogger logger, int upgraded, int kept);

    [LoggerMessage(Level = LogLevel.Information, Message = "History of an earlier format removed ({Removed} revisions): this server keeps no history (--history-retention)")]
    private static partial void LogEarlierRemoved(ILogger logger, int removed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "History pruning failed")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

/// <summary>What history holds after a prune (the journaled writes after the compacted revision, and their bytes in the store).</summary>
internal sealed record HistoryUsage(int Revisions, long Bytes, long CompactedRevision);
