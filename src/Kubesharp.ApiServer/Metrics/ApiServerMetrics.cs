using System.Collections.Concurrent;
using Kubesharp.ApiServer.Caching;
using Prometheus;

namespace Kubesharp.ApiServer.Metrics;

/// <summary>
/// The API server's metric families, with upstream's names, labels and buckets, in a registry of this server
/// (so two servers in one process count apart). Label sets are resolved once into cached series: a request pays a
/// dictionary lookup and a few interlocked adds.
/// </summary>
internal sealed class ApiServerMetrics
{
    public const string Component = "apiserver";

    // Upstream's request and etcd latency buckets.
    private static readonly double[] LatencyBuckets = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

    private static readonly string[] RequestLabels = ["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"];

    private readonly Counter _requests;
    private readonly Histogram _durations;
    private readonly Gauge _longRunning;
    private readonly Gauge _watchers;
    private readonly Histogram _etcdDurations;
    private readonly Counter _etcdRequests;
    private readonly ConcurrentDictionary<RequestSeriesKey, RequestSeries> _requestSeries = new();
    private readonly ConcurrentDictionary<string, StoreSeries> _storeSeries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoreSeries>.AlternateLookup<ReadOnlySpan<char>> _storeSeriesBySpan;

    public ApiServerMetrics()
    {
        Registry = Kubesharp.ApiMachinery.Metrics.ComponentMetrics.NewRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("apiserver_request_total", "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.", [.. RequestLabels, "code"]);
        _durations = factory.CreateHistogram("apiserver_request_duration_seconds", "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.", new HistogramConfiguration { LabelNames = RequestLabels, Buckets = LatencyBuckets });
        _longRunning = factory.CreateGauge("apiserver_longrunning_requests", "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.", ["verb", "group", "version", "resource", "subresource", "scope", "component"]);
        _watchers = factory.CreateGauge("apiserver_registered_watchers", "Number of currently registered watchers for a given resources", ["group", "version", "kind"]);
        _etcdDurations = factory.CreateHistogram("etcd_request_duration_seconds", "Etcd request latency in seconds for each operation and object type.", new HistogramConfiguration { LabelNames = ["operation", "type"], Buckets = LatencyBuckets });
        _etcdRequests = factory.CreateCounter("etcd_requests_total", "Etcd request counts for each operation and object type.", ["operation", "type"]);
        _storeSeriesBySpan = _storeSeries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>apiserver_storage_objects, counted in the watch cache when scraped.</summary>
    public void CountObjectsOf(WatchCache cache)
    {
        var objects = Prometheus.Metrics.WithCustomRegistry(Registry).CreateGauge("apiserver_storage_objects", "Number of stored objects at the time of last check split by kind.", ["resource"]);
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (resource, count) in cache.ObjectCounts())
            {
                objects.WithLabels(resource).Set(count);
            }
        });
    }

    public CollectorRegistry Registry { get; }

    public RequestSeries Request(in RequestSeriesKey key) => _requestSeries.TryGetValue(key, out var series) ? series : _requestSeries.GetOrAdd(key, NewRequestSeries);

    public Gauge.Child LongRunning(in RequestSeriesKey key) => _longRunning.WithLabels(key.Verb, key.Group, key.Version, key.Resource, key.Subresource, key.Scope, Component);

    public Gauge.Child Watchers(string group, string version, string kind) => _watchers.WithLabels(group, version, kind);

    /// <summary>The series of one store operation on keys under <c>/registry/TYPE/</c>.</summary>
    public StoreSeries Store(string operation, string key)
    {
        var type = StoreType(key);
        // Operations are few and fixed: the operation joins the type in one lookup key without allocating.
        Span<char> buffer = stackalloc char[Math.Min(operation.Length + 1 + type.Length, 256)];
        if (operation.Length + 1 + type.Length > buffer.Length)
        {
            return NewStoreSeries(operation, type.ToString());
        }

        operation.CopyTo(buffer);
        buffer[operation.Length] = ' ';
        type.CopyTo(buffer[(operation.Length + 1)..]);
        if (_storeSeriesBySpan.TryGetValue(buffer, out var series))
        {
            return series;
        }

        var created = NewStoreSeries(operation, type.ToString());
        return _storeSeries.GetOrAdd(new string(buffer), created);
    }

    /// <summary>The group-resource of a registry key (<c>/registry/pods/ns/name</c> is "pods"), as upstream names the type.</summary>
    internal static ReadOnlySpan<char> StoreType(string key)
    {
        const string prefix = WatchCache.RegistryPrefix;
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return [];
        }

        var rest = key.AsSpan(prefix.Length);
        var end = rest.IndexOf('/');
        return end < 0 ? rest : rest[..end];
    }

    private StoreSeries NewStoreSeries(string operation, string type) =>
        new(_etcdDurations.WithLabels(operation, type), _etcdRequests.WithLabels(operation, type));

    private RequestSeries NewRequestSeries(RequestSeriesKey key) => new(
        _requests.WithLabels(key.Verb, key.DryRun, key.Group, key.Version, key.Resource, key.Subresource, key.Scope, Component, StatusCodes(key.Code)),
        _durations.WithLabels(key.Verb, key.DryRun, key.Group, key.Version, key.Resource, key.Subresource, key.Scope, Component));

    private static string StatusCodes(int code) => code.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal sealed record RequestSeries(Counter.Child Total, Histogram.Child Duration);

    internal sealed record StoreSeries(Histogram.Child Duration, Counter.Child Total);
}
