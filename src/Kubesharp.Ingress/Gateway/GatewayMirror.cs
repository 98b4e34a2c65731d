using System.Text.Json.Nodes;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// An HTTPRoute RequestMirror filter: a copy of each request (or of the share <c>percent</c> or <c>fraction</c> names)
/// goes to the backendRef too, and its answer is ignored. A backendRef that cannot be resolved is dropped (the route's
/// ResolvedRefs says why); the requests themselves are served as if the filter were absent.
/// </summary>
internal sealed class GatewayMirror(IngressBackendPool pool, double share)
{
    /// <summary>
    /// The largest request body copied to mirrors (as Envoy's default buffer limit and nginx's client_max_body_size): a
    /// larger one is not mirrored, and the request itself is still served, so an upload cannot make the proxy hold it.
    /// </summary>
    public const int BodyLimit = 1024 * 1024;

    public IngressBackendPool Pool { get; } = pool;

    /// <summary>Whether this request is mirrored: always at 100%, else a random draw against the share.</summary>
    public bool Sample() =>
#pragma warning disable CA5394 // sampling, not security
        share >= 1 || (share > 0 && Random.Shared.NextDouble() < share);
#pragma warning restore CA5394

    /// <summary>The filter's backendRef, for resolving it with the route's other references.</summary>
    public static JsonObject? Reference(JsonObject filter) => filter["requestMirror"]?["backendRef"] as JsonObject;

    /// <summary>The mirror, or null when its backendRef did not resolve; <paramref name="error"/> when both percent and fraction are set.</summary>
    public static GatewayMirror? Parse(JsonObject? spec, IngressBackendPool? pool, out string? error)
    {
        error = null;
        var percent = (int?)spec?["percent"];
        var fraction = spec?["fraction"] as JsonObject;
        if (percent is not null && fraction is not null)
        {
            error = "requestMirror takes percent or fraction, not both";
            return null;
        }

        var denominator = (int?)fraction?["denominator"] ?? 100;
        var share = percent is { } p ? p / 100.0 : fraction is not null ? ((int?)fraction["numerator"] ?? 0) / (double)Math.Max(1, denominator) : 1.0;
        if (fraction is not null && (int?)fraction["numerator"] > denominator)
        {
            error = "requestMirror fraction's numerator must not exceed its denominator";
            return null;
        }

        return pool is null ? null : new GatewayMirror(pool, share);
    }
}
