using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.RateLimiting;

namespace Kubesharp.ApiServer.Admission.Plugins.EventRateLimits;

/// <summary>
/// One configured limit: a bucket per key (the namespace, the user, the event's source and object, or one for the
/// whole server), the least recently used keys forgotten beyond the limit's cache size, as upstream's LRU does.
/// </summary>
internal sealed class EventLimitEnforcer(EventLimit limit, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, TokenBucket Bucket)>> _buckets = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, TokenBucket Bucket)> _recency = new();

    public EventLimitType Type => limit.Type;

    /// <summary>Takes a token for the request's key; null when one was free, else why not.</summary>
    public string? Accept(AdmissionAttributes attributes)
    {
        var key = KeyOf(attributes);
        return BucketFor(key).TryTake() ? null : $"limit reached on type {limit.Type} for key {key}";
    }

    private string KeyOf(AdmissionAttributes attributes) => limit.Type switch
    {
        EventLimitType.Server => string.Empty,
        EventLimitType.Namespace => attributes.Namespace,
        EventLimitType.User => attributes.User.Name,
        _ => SourceAndObject(attributes.Object),
    };

    // The fields upstream joins, with nothing between them.
    private static string SourceAndObject(JsonObject? @event) => @event is null
        ? string.Empty
        : string.Concat(
            (string?)@event["source"]?["component"], (string?)@event["source"]?["host"],
            (string?)@event["involvedObject"]?["kind"], (string?)@event["involvedObject"]?["namespace"], (string?)@event["involvedObject"]?["name"],
            (string?)@event["involvedObject"]?["uid"], (string?)@event["involvedObject"]?["apiVersion"]);

    private TokenBucket BucketFor(string key)
    {
        lock (_gate)
        {
            if (_buckets.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Bucket;
            }

            var bucket = new TokenBucket(limit.Qps, limit.Burst, time);
            _buckets[key] = _recency.AddFirst((key, bucket));
            var size = limit.Type == EventLimitType.Server ? 1 : limit.CacheSize;
            while (_recency.Count > size)
            {
                _buckets.Remove(_recency.Last!.Value.Key);
                _recency.RemoveLast();
            }

            return bucket;
        }
    }
}
