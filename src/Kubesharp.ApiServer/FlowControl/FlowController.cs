using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// API Priority and Fairness: the request stage between authentication and the handlers. Each request is matched
/// to the first FlowSchema (by precedence, then name) whose rules cover it and waits for a seat of that schema's
/// priority level; a level out of seats and queue room answers 429 with Retry-After. Watches hold their seat only
/// until their response starts; the other long-running requests (exec, attach, port-forward, logs, proxy) take none.
/// The configuration is read from the FlowSchemas and PriorityLevelConfigurations in the API as they change, and
/// upstream's mandatory and suggested objects are kept there.
/// </summary>
internal sealed partial class FlowController
{
    public const string DumpPriorityLevelsPath = "/debug/api_priority_and_fairness/dump_priority_levels";
    public const string FlowSchemaUidHeader = "X-Kubernetes-PF-FlowSchema-UID";
    public const string PriorityLevelUidHeader = "X-Kubernetes-PF-PriorityLevel-UID";

    /// <summary>How long a request may wait in a queue (upstream: a quarter of the 60 s request timeout).</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(15);

    private static readonly Lazy<(IReadOnlyList<FlowSchemaMatcher> Schemas, IReadOnlyList<PriorityLevelSpec> Levels)> Mandatory = new(() => (
        [.. BootstrapConfiguration.MandatoryFlowSchemas.Select(o => FlowSchemaMatcher.Parse(Name(o), null, Element(o)))],
        [.. BootstrapConfiguration.MandatoryPriorityLevels.Select(o => PriorityLevelSpec.Parse(Name(o), null, Element(o)))]));

    private readonly ResourceRegistry _registry;
    private readonly ApiResource _flowSchemas;
    private readonly ApiResource _priorityLevels;
    private readonly int _totalLimit;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PriorityLevel> _levels = new(StringComparer.Ordinal);
    private readonly SeatLending _lending = new();
    private readonly WorkEstimator _work;
    private Configuration? _current;
    private CancellationToken _stopping;
    private volatile bool _maintained;
    private int _maintenance;

    private FlowController(ResourceRegistry registry, ApiResource flowSchemas, ApiResource priorityLevels, ILogger logger)
    {
        _registry = registry;
        _flowSchemas = flowSchemas;
        _priorityLevels = priorityLevels;
        _totalLimit = Math.Max(1, registry.Options.TotalConcurrencyLimit);
        _work = new WorkEstimator(registry.Cache);
        _logger = logger;
    }

    /// <summary>Where dispatches, rejections, waits and seats are counted; none when null.</summary>
    public Metrics.FlowControlMetrics? Metrics { get; private set; }

    /// <summary>Counts into <paramref name="registry"/> from now on.</summary>
    public void ReportTo(Prometheus.CollectorRegistry registry)
    {
        Metrics = new Metrics.FlowControlMetrics(registry);
        Metrics.ReportLevels(registry, () =>
        {
            lock (_gate)
            {
                return [.. _levels.Values.Select(l => (l.Name, l.Limit))];
            }
        });
    }

    /// <summary>The controller, or null when the catalog serves no flowcontrol.apiserver.k8s.io/v1 (nothing to configure it with).</summary>
    public static FlowController? Create(ResourceRegistry registry, ILogger logger) =>
        registry.Find("flowcontrol.apiserver.k8s.io", "v1", "flowschemas") is { } flowSchemas &&
        registry.Find("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations") is { } priorityLevels
            ? new FlowController(registry, flowSchemas, priorityLevels, logger)
            : null;

    /// <summary>Creates or restores the mandatory and suggested objects; after this, changes to them are kept up as they come.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = cancellationToken;
        await MaintainAsync(cancellationToken).ConfigureAwait(false);
        _maintained = true;
    }

    public async Task ServeAsync(HttpContext context, UserInfo user, RequestInfo request, string path, Func<HttpContext, string, Task> next)
    {
        if (request.IsLongRunning && !request.IsWatch)
        {
            await next(context, path).ConfigureAwait(false);
            return;
        }

        var (schema, level) = Current().Classify(request, user);
        context.Response.OnStarting(static state =>
        {
            var (response, schemaUid, levelUid) = ((HttpResponse, string?, string?))state;
            if (schemaUid is not null)
            {
                response.Headers[FlowSchemaUidHeader] = schemaUid;
            }

            if (levelUid is not null)
            {
                response.Headers[PriorityLevelUidHeader] = levelUid;
            }

            return Task.CompletedTask;
        }, (context.Response, schema.Uid, level.Spec.Uid));

        var flow = ShuffleShardDealer.FlowHash(schema.Name, schema.FlowDistinguisher(request, user));
        var series = Metrics?.For(schema.Name, level.Name);
        var seats = _work.SeatsOf(request);
        series?.EstimatedSeats.Observe(seats);
        var waitStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        PriorityLevel.Seat? seat;
        series?.Waiting.Inc();
        try
        {
            seat = await level.AdmitAsync(flow, seats, WaitLimit, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            series?.Rejected("cancelled").Inc();
            throw;
        }
        finally
        {
            series?.Waiting.Dec();
        }

        var waited = System.Diagnostics.Stopwatch.GetElapsedTime(waitStarted);
        if (seat is null)
        {
            if (series is not null)
            {
                series.WaitedAndRejected.Observe(waited.TotalSeconds);
                series.Rejected(waited >= WaitLimit ? "time-out" : level.Spec.Queuing ? "queue-full" : "concurrency-limit").Inc();
            }

            level.Dropped.Record();
            throw new StatusError(429, "TooManyRequests", "Too many requests, please try again later.", retryAfterSeconds: level.Dropped.RetryAfterSeconds);
        }

        using var held = seat;
        using var running = series is null ? null : new ExecutingRequest(series, waited, seat.Width);

        if (request.IsWatch)
        {
            // A watch counts while it starts (subscribing, reading its backlog), not for as long as it stays open.
            context.Response.OnStarting(static state =>
            {
                var (seat, running) = ((IDisposable, IDisposable?))state;
                seat.Dispose();
                running?.Dispose();
                return Task.CompletedTask;
            }, ((IDisposable)seat, (IDisposable?)running));
        }

        if (path == DumpPriorityLevelsPath && !request.IsResourceRequest && request.Verb == "get")
        {
            await WriteDumpAsync(context).ConfigureAwait(false);
            return;
        }

        await next(context, path).ConfigureAwait(false);
    }

    /// <summary>A request holding a seat, as the metrics count it: dispatched once, executing until disposed (once).</summary>
    private sealed class ExecutingRequest : IDisposable
    {
        private readonly Metrics.FlowControlMetrics.Series _series;
        private readonly int _seats;
        private int _done;

        public ExecutingRequest(Metrics.FlowControlMetrics.Series series, TimeSpan waited, int seats)
        {
            _series = series;
            _seats = seats;
            series.Dispatched.Inc();
            series.WaitedAndRan.Observe(waited.TotalSeconds);
            series.Executing.Inc();
            series.ExecutingSeats.Inc(seats);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                _series.Executing.Dec();
                _series.ExecutingSeats.Dec(_seats);
            }
        }
    }

    /// <summary>The configuration compiled from the objects in the cache, compiled again when they change.</summary>
    private Configuration Current()
    {
        var schemas = _registry.Cache.For(_flowSchemas).Snapshot;
        var levels = _registry.Cache.For(_priorityLevels).Snapshot;
        var current = Volatile.Read(ref _current);
        if (current is not null && ReferenceEquals(current.SchemaSource, schemas) && ReferenceEquals(current.LevelSource, levels))
        {
            return current;
        }

        lock (_gate)
        {
            current = _current;
            if (current is null || !ReferenceEquals(current.SchemaSource, schemas) || !ReferenceEquals(current.LevelSource, levels))
            {
                current = Compile(schemas.Values, levels.Values, schemas, levels);
                Volatile.Write(ref _current, current);
                if (_maintained)
                {
                    RequestMaintenance();
                }
            }

            return current;
        }
    }

    private Configuration Compile(IEnumerable<CachedObject> schemaObjects, IEnumerable<CachedObject> levelObjects, object schemaSource, object levelSource)
    {
        var specs = new Dictionary<string, PriorityLevelSpec>(StringComparer.Ordinal);
        foreach (var obj in levelObjects)
        {
            specs[obj.Name] = PriorityLevelSpec.Parse(obj.Name, obj.Uid, obj.Root);
        }

        // Until the mandatory objects are (back) in the API, their built-in versions serve.
        foreach (var spec in Mandatory.Value.Levels)
        {
            specs.TryAdd(spec.Name, spec);
        }

        long shares = specs.Values.Sum(s => (long)s.NominalConcurrencyShares);
        var levels = new Dictionary<string, PriorityLevel>(StringComparer.Ordinal);
        foreach (var spec in specs.Values)
        {
            var limit = spec.Exempt || shares == 0 ? 0 : (int)Math.Ceiling((double)_totalLimit * spec.NominalConcurrencyShares / shares);
            if (_levels.TryGetValue(spec.Name, out var level))
            {
                level.Configure(spec, limit);
            }
            else
            {
                level = new PriorityLevel(spec, limit, _registry.TimeProvider, _lending);
            }

            levels[spec.Name] = level;
        }

        // A removed level keeps serving the requests it holds; new ones go by the new configuration.
        _lending.SetLevels(levels.Values);
        _levels.Clear();
        foreach (var (name, level) in levels)
        {
            _levels[name] = level;
        }

        var matchers = schemaObjects.Select(o => FlowSchemaMatcher.Parse(o.Name, o.Uid, o.Root)).ToList();
        foreach (var schema in Mandatory.Value.Schemas)
        {
            if (!matchers.Any(m => m.Name == schema.Name))
            {
                matchers.Add(schema);
            }
        }

        var ordered = matchers
            .Where(m => levels.ContainsKey(m.PriorityLevel))
            .OrderBy(m => m.Precedence)
            .ThenBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
        var catchAll = Mandatory.Value.Schemas.First(s => s.Name == BootstrapConfiguration.CatchAllName);
        return new Configuration(schemaSource, levelSource, ordered, levels, (catchAll, levels[BootstrapConfiguration.CatchAllName]));
    }

    private async Task WriteDumpAsync(HttpContext context)
    {
        string[] header = ["PriorityLevelName", "ActiveQueues", "IsIdle", "IsQuiescing", "WaitingRequests", "ExecutingRequests", "DispatchedRequests", "RejectedRequests", "TimedoutRequests", "CancelledRequests"];
        var rows = new List<string[]> { header };
        foreach (var level in Current().Levels.Values.OrderBy(l => l.Name, StringComparer.Ordinal))
        {
            var c = level.Counts();
            rows.Add([
                level.Name, Number(c.ActiveQueues), Bool(c.Waiting == 0 && c.Executing == 0), Bool(false), Number(c.Waiting), Number(c.Executing),
                Number(c.Dispatched), Number(c.Rejected), Number(c.TimedOut), Number(c.Cancelled),
            ]);
        }

        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Max(r => r[i].Length + 1)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(i < row.Length - 1 ? (row[i] + ",").PadRight(widths[i] + 1) : row[i]);
            }

            text.Append('\n');
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text.ToString(), context.RequestAborted).ConfigureAwait(false);

        static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

        static string Bool(bool value) => value ? "true" : "false";
    }

    private static string Name(JsonObject obj) => (string)obj["metadata"]!["name"]!;

    private static JsonElement Element(JsonObject obj)
    {
        using var document = JsonDocument.Parse(obj.ToJsonString());
        return document.RootElement.Clone();
    }

    private sealed record Configuration(
        object SchemaSource,
        object LevelSource,
        IReadOnlyList<FlowSchemaMatcher> Schemas,
        IReadOnlyDictionary<string, PriorityLevel> Levels,
        (FlowSchemaMatcher Schema, PriorityLevel Level) Fallback)
    {
        public (FlowSchemaMatcher Schema, PriorityLevel Level) Classify(RequestInfo request, UserInfo user)
        {
            foreach (var schema in Schemas)
            {
                if (schema.Matches(request, user))
                {
                    return (schema, Levels[schema.PriorityLevel]);
                }
            }

            return Fallback;
        }
    }
}
