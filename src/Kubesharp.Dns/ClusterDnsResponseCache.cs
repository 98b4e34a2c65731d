using System.Collections.Concurrent;
using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns;

/// <summary>
/// Responses to cluster names, serialised once per question and reused until the Services, EndpointSlices (and,
/// for reverse names, Pods) they came from change: <see cref="ClusterDnsZone.Version"/> is checked on every hit.
/// A cached response has ID 0, no RD bit, the question in lower case and no OPT record; the server patches those
/// per query. Names outside the zone are not cached (they are forwarded).
/// </summary>
internal sealed class ClusterDnsResponseCache
{
    /// <summary>Bounds memory against queries for ever new names (search-path misses, scans): full means start over.</summary>
    private const int Capacity = 10_000;

    private readonly ClusterDnsZone zone;
    private readonly ConcurrentDictionary<byte[], Entry> entries = new(DnsQuestionKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> lookup;

    public ClusterDnsResponseCache(ClusterDnsZone zone)
    {
        this.zone = zone;
        lookup = entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => entries.Count;

    /// <summary>
    /// The response for <paramref name="key"/> (a question as <see cref="DnsQuery.WriteKey"/> writes it), computed
    /// on a miss; null when the name is not the cluster's or cannot be answered in this form.
    /// </summary>
    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        if (lookup.TryGetValue(key, out var entry) && entry.Version == zone.Version(entry.Reverse))
        {
            return entry.Response;
        }

        var offset = 0;
        string name;
        try
        {
            name = DnsMessageReader.ReadName(key, ref offset);
        }
        catch (DnsFormatException)
        {
            return null;
        }

        var reverse = ClusterDnsZone.IsReverse(name);
        // Read before the caches, so that a change racing with this computation leaves the entry already stale.
        var version = zone.Version(reverse);
        var question = new DnsQuestion(name, (DnsType)((key[offset] << 8) | key[offset + 1]));
        if (zone.Answer(question) is not { } answer)
        {
            return null;
        }

        byte[] response;
        try
        {
            response = DnsMessageWriter.Write(new DnsMessage
            {
                IsResponse = true,
                Authoritative = true,
                RecursionAvailable = true,
                ResponseCode = answer.ResponseCode,
                Questions = [question],
                Answers = answer.Answers,
                Authorities = answer.Authorities,
                Additionals = answer.Additionals,
            });
        }
        catch (DnsFormatException)
        {
            return null;
        }

        // The server copies the query's own question over the cached one, so both must have the same bytes
        // (names with odd bytes in labels do not survive the trip through text: those are answered the long way).
        if (response.Length < DnsQuery.QuestionOffset + key.Length || !response.AsSpan(DnsQuery.QuestionOffset, key.Length).SequenceEqual(key))
        {
            return null;
        }

        if (entries.Count >= Capacity)
        {
            entries.Clear();
        }

        lookup[key] = new Entry(version, reverse, response);
        return response;
    }

    private sealed record Entry(long Version, bool Reverse, byte[] Response);
}
