using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// Upstream's overload protection without API Priority and Fairness (--enable-priority-and-fairness=false): at most
/// --max-requests-inflight read-only and --max-mutating-requests-inflight mutating requests run at once (0: no limit
/// of that kind); one more is answered 429 with Retry-After at once, without queuing. Long-running requests and
/// members of system:masters are never limited.
/// </summary>
internal sealed class MaxInFlightLimit(int readOnly, int mutating)
{
    private const string PrivilegedGroup = "system:masters";

    private readonly Kind _readOnly = new(readOnly);
    private readonly Kind _mutating = new(mutating);

    /// <summary>Requests running now under each limit (upstream's apiserver_current_inflight_requests).</summary>
    public (int ReadOnly, int Mutating) InFlight => (_readOnly.Current, _mutating.Current);

    /// <summary>Reports the requests in flight as upstream's apiserver_current_inflight_requests when scraped.</summary>
    public void ReportTo(Prometheus.CollectorRegistry registry)
    {
        var gauge = Prometheus.Metrics.WithCustomRegistry(registry).CreateGauge("apiserver_current_inflight_requests", "Requests running now under the max-in-flight limits, by kind (readOnly, mutating).", ["request_kind"]);
        registry.AddBeforeCollectCallback(() =>
        {
            gauge.WithLabels("readOnly").Set(_readOnly.Current);
            gauge.WithLabels("mutating").Set(_mutating.Current);
        });
    }

    public async Task ServeAsync(HttpContext context, UserInfo user, RequestInfo request, string path, Func<HttpContext, string, Task> next)
    {
        var kind = request.Verb is "get" or "list" or "watch" ? _readOnly : _mutating;
        if (request.IsLongRunning || kind.Limit <= 0)
        {
            await next(context, path).ConfigureAwait(false);
            return;
        }

        if (!kind.TryEnter())
        {
            if (!user.Groups.Contains(PrivilegedGroup))
            {
                throw new StatusError(429, "TooManyRequests", "Too many requests, please try again later.", retryAfterSeconds: 1);
            }

            // Privileged requests run beyond the limit, uncounted.
            await next(context, path).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context, path).ConfigureAwait(false);
        }
        finally
        {
            kind.Exit();
        }
    }

    private sealed class Kind(int limit)
    {
        private int _current;

        public int Limit => limit;

        public int Current => Volatile.Read(ref _current);

        public bool TryEnter()
        {
            if (Interlocked.Increment(ref _current) <= limit)
            {
                return true;
            }

            Interlocked.Decrement(ref _current);
            return false;
        }

        public void Exit() => Interlocked.Decrement(ref _current);
    }
}
