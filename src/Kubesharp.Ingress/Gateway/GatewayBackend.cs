using Yarp.ReverseProxy.Forwarder;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The backendRefs of one HTTPRoute rule as one of its matches serves them: each request picks one in proportion to
/// its weight. A reference that cannot be resolved keeps its share and that share is answered 500, as upstream
/// requires; so is a rule whose weights are all zero or that has no backendRefs.
/// </summary>
internal sealed class GatewayBackend
{
    private readonly Choice[] choices;
    private readonly int total;

    /// <param name="choices">Each reference's pool (null: unresolved), weight, and filters (the rule's, then its own).</param>
    /// <param name="matchedPrefix">The path of the match, for filters that replace the matched prefix.</param>
    public GatewayBackend(IReadOnlyList<(IngressBackendPool? Pool, int Weight, GatewayFilters Filters)> choices, string matchedPrefix)
    {
        this.choices = [.. choices.Where(c => c.Weight > 0).Select(c => new Choice(
            c.Pool, c.Weight, c.Filters, c.Filters.Empty ? IngressTransformer.Instance : new GatewayTransformer(c.Filters, matchedPrefix)))];
        total = this.choices.Sum(c => c.Weight);
    }

    /// <summary>The backend for the next request, or null when it must be answered 500.</summary>
    public Choice? Next()
    {
        if (total == 0)
        {
            return null;
        }

        // A weighted random pick (as Envoy splits clusters): it carries no state, so the routes can be rebuilt at any time
        // without skewing the split.
#pragma warning disable CA5394 // load balancing, not security
        var slot = choices.Length == 1 ? 0 : Random.Shared.Next(total);
#pragma warning restore CA5394
        foreach (var choice in choices)
        {
            if (slot < choice.Weight)
            {
                return choice;
            }

            slot -= choice.Weight;
        }

        return null;
    }

    /// <summary>One backendRef: where it forwards (null: unresolved, answered 500), its filters and the transformer that applies them.</summary>
    internal sealed record Choice(IngressBackendPool? Pool, int Weight, GatewayFilters Filters, HttpTransformer Transformer);
}
