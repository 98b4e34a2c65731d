namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The backendRefs of one HTTPRoute rule: each request picks one in proportion to its weight. A reference that
/// cannot be resolved keeps its share and that share is answered 500, as upstream requires; so is a rule whose
/// weights are all zero or that has no backendRefs.
/// </summary>
internal sealed class GatewayBackend
{
    private readonly (IngressBackendPool? Pool, int Weight)[] choices;
    private readonly int total;

    /// <param name="choices">Each reference's pool (null: unresolved) and weight.</param>
    public GatewayBackend(IReadOnlyList<(IngressBackendPool? Pool, int Weight)> choices)
    {
        this.choices = [.. choices.Where(c => c.Weight > 0)];
        total = this.choices.Sum(c => c.Weight);
    }

    /// <summary>The backend for the next request, or null when it must be answered 500.</summary>
    public IngressBackendPool? Next()
    {
        if (total == 0)
        {
            return null;
        }

        // A weighted random pick (as Envoy splits clusters): it carries no state, so the routes can be rebuilt at any time
        // without skewing the split.
#pragma warning disable CA5394 // load balancing, not security
        var slot = Random.Shared.Next(total);
#pragma warning restore CA5394
        foreach (var (pool, weight) in choices)
        {
            if (slot < weight)
            {
                return pool;
            }

            slot -= weight;
        }

        return null;
    }
}
