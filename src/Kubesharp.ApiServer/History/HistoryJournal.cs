using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Storage;

namespace Kubesharp.ApiServer.History;

/// <summary>
/// The when and who of every write the registry makes, which the store's own revisions do not carry: its revision,
/// time, size in the store, and for kept resources the user and field manager. Entries are gathered in memory and
/// written together, about once a second, as one chunk at <c>/kubesharp/journal/MAXREVISION</c>, so that a write costs
/// neither a second store write on its own path nor more than a few bytes. Chunks are keyed by their newest
/// revision, so the chunk holding a revision is among the first few at or after it.
/// </summary>
internal sealed class HistoryJournal(IStore store)
{
    public const string Prefix = "/kubesharp/journal/";

    /// <summary>Concurrent writes may be recorded out of order: a revision lands in a chunk at most this many chunks after its own.</summary>
    private const int ChunksAhead = 8;

    private readonly Lock _lock = new();
    private List<JournalEntry> _buffer = [];

    /// <summary>Entries taken from the buffer whose chunk is being written: readers still find them here meanwhile.</summary>
    private List<JournalEntry> _writing = [];

    public static string Revision(long revision) => revision.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>Entries waiting for the next flush.</summary>
    public int Buffered
    {
        get
        {
            lock (_lock)
            {
                return _buffer.Count;
            }
        }
    }

    public void Add(JournalEntry entry)
    {
        lock (_lock)
        {
            _buffer.Add(entry);
        }
    }

    /// <summary>Writes what is buffered as one chunk; on failure the entries stay buffered for the next flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        List<JournalEntry> entries;
        lock (_lock)
        {
            if (_buffer.Count == 0)
            {
                return;
            }

            entries = _buffer;
            _buffer = [];
            _writing = entries;
        }

        try
        {
            entries.Sort((a, b) => a.Revision.CompareTo(b.Revision));
            await store.CreateAsync(Prefix + Revision(entries[^1].Revision), Encode(entries), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                _buffer.AddRange(entries);
            }

            throw;
        }
        finally
        {
            lock (_lock)
            {
                _writing = [];
            }
        }
    }

    /// <summary>
    /// Writes entries directly, in revision order and chunks of at most <paramref name="chunkSize"/> (an upgrade's); a
    /// chunk already written (by an earlier attempt, or another server) is left as it is.
    /// </summary>
    public async Task WriteAsync(List<JournalEntry> entries, int chunkSize, CancellationToken cancellationToken)
    {
        entries.Sort((a, b) => a.Revision.CompareTo(b.Revision));
        foreach (var chunk in entries.Chunk(chunkSize))
        {
            try
            {
                await store.CreateAsync(Prefix + Revision(chunk[^1].Revision), Encode([.. chunk]), cancellationToken).ConfigureAwait(false);
            }
            catch (KeyExistsException)
            {
                // Written before.
            }
        }
    }

    /// <summary>The entries of the given revisions that the journal holds (buffered or written).</summary>
    public async Task<Dictionary<long, JournalEntry>> FindAsync(IEnumerable<long> revisions, CancellationToken cancellationToken)
    {
        var wanted = revisions.ToHashSet();
        var found = new Dictionary<long, JournalEntry>();
        lock (_lock)
        {
            foreach (var entry in _buffer.Concat(_writing))
            {
                if (wanted.Contains(entry.Revision))
                {
                    found[entry.Revision] = entry;
                }
            }
        }

        var searched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var revision in wanted.Order())
        {
            if (found.ContainsKey(revision))
            {
                continue;
            }

            var page = await store.ListAsync(Prefix, new ListOptions(0, ChunksAhead, Prefix + Revision(revision - 1)), cancellationToken).ConfigureAwait(false);
            foreach (var chunk in page.Items)
            {
                if (!searched.Add(chunk.Key))
                {
                    continue;
                }

                foreach (var entry in Decode(chunk.Value.Span))
                {
                    if (wanted.Contains(entry.Revision))
                    {
                        found[entry.Revision] = entry;
                    }
                }

                if (found.ContainsKey(revision))
                {
                    break;
                }
            }
        }

        return found;
    }

    /// <summary>Every written chunk with its entries, oldest first.</summary>
    public async IAsyncEnumerable<(string Key, List<JournalEntry> Entries)> ScanAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            var page = await store.ListAsync(Prefix, new ListOptions(0, 256, after), cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return (item.Key, Decode(item.Value.Span));
            }

            if (!page.More || page.Items.Count == 0)
            {
                yield break;
            }

            after = page.Items[^1].Key;
        }
    }

    /// <summary>
    /// A chunk: the first revision and time, then one array per write of revision and milliseconds after the previous
    /// entry, bytes, and (kept resources only) indexes into the chunk's user and manager names.
    /// </summary>
    internal static byte[] Encode(List<JournalEntry> entries)
    {
        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        var managers = new Dictionary<string, int>(StringComparer.Ordinal);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 + (entries.Count * 16));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("revision", entries[0].Revision);
            writer.WriteNumber("time", entries[0].Time.ToUnixTimeMilliseconds());
            writer.WriteStartArray("entries");
            var (revision, time) = (entries[0].Revision, entries[0].Time.ToUnixTimeMilliseconds());
            foreach (var entry in entries)
            {
                var ms = entry.Time.ToUnixTimeMilliseconds();
                writer.WriteStartArray();
                writer.WriteNumberValue(entry.Revision - revision);
                writer.WriteNumberValue(ms - time);
                writer.WriteNumberValue(entry.Bytes);
                if (entry.User is { } user)
                {
                    writer.WriteNumberValue(Index(users, user));
                    if (entry.Manager is { } manager)
                    {
                        writer.WriteNumberValue(Index(managers, manager));
                    }
                }

                writer.WriteEndArray();
                (revision, time) = (entry.Revision, ms);
            }

            writer.WriteEndArray();
            WriteNames(writer, "users", users);
            WriteNames(writer, "managers", managers);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static int Index(Dictionary<string, int> names, string name)
    {
        if (!names.TryGetValue(name, out var index))
        {
            index = names.Count;
            names[name] = index;
        }

        return index;
    }

    private static void WriteNames(Utf8JsonWriter writer, string property, Dictionary<string, int> names)
    {
        writer.WriteStartArray(property);
        foreach (var name in names.OrderBy(n => n.Value).Select(n => n.Key))
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
    }

    internal static List<JournalEntry> Decode(ReadOnlySpan<byte> encoded)
    {
        var entries = new List<JournalEntry>();
        JsonObject? chunk;
        try
        {
            chunk = JsonNode.Parse(encoded) as JsonObject;
        }
        catch (JsonException)
        {
            return entries;
        }

        if (chunk?["entries"] is not JsonArray rows || (long?)chunk["revision"] is not { } revision || (long?)chunk["time"] is not { } time)
        {
            return entries;
        }

        var users = (chunk["users"] as JsonArray)?.Select(u => (string)u!).ToArray() ?? [];
        var managers = (chunk["managers"] as JsonArray)?.Select(m => (string)m!).ToArray() ?? [];
        foreach (var row in rows.OfType<JsonArray>())
        {
            revision += (long)row[0]!;
            time += (long)row[1]!;
            var user = row.Count > 3 ? users[(int)row[3]!] : null;
            var manager = row.Count > 4 ? managers[(int)row[4]!] : null;
            entries.Add(new JournalEntry(revision, DateTimeOffset.FromUnixTimeMilliseconds(time), (int)row[2]!, user, manager));
        }

        return entries;
    }
}

/// <summary>One write in the journal; <see cref="User"/> is null for resources whose history is not kept.</summary>
internal readonly record struct JournalEntry(long Revision, DateTimeOffset Time, int Bytes, string? User, string? Manager);
