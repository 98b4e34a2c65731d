using System.Collections.Immutable;
using System.Text.Json;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Policies;

/// <summary>
/// The stored admission policies of one kind, each with the bindings that name it, in name order; compiled again
/// only when the watch cache's snapshot of the policies or of the bindings changes.
/// </summary>
internal sealed class PolicySource<TPolicy>(ResourceRegistry registry, string policies, string bindings, Func<JsonElement, TPolicy> parse, Func<TPolicy, string> nameOf)
    where TPolicy : class
{
    private Compiled _compiled = new(null, null, []);

    public IReadOnlyList<BoundPolicy<TPolicy>> Current
    {
        get
        {
            if (registry.FindByGroupResource(policies) is not { } policyResource || registry.FindByGroupResource(bindings) is not { } bindingResource)
            {
                return [];
            }

            var policySnapshot = registry.Cache.For(policyResource).Snapshot;
            var bindingSnapshot = registry.Cache.For(bindingResource).Snapshot;
            var compiled = Volatile.Read(ref _compiled);
            if (ReferenceEquals(compiled.Policies, policySnapshot) && ReferenceEquals(compiled.Bindings, bindingSnapshot))
            {
                return compiled.Bound;
            }

            var byPolicy = bindingSnapshot.Values
                .OrderBy(b => b.Name, StringComparer.Ordinal)
                .Select(b => PolicyBinding.Parse(b.Root))
                .ToLookup(b => b.PolicyName, StringComparer.Ordinal);
            var bound = policySnapshot.Values
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => parse(p.Root))
                .Select(p => new BoundPolicy<TPolicy>(p, byPolicy[nameOf(p)].ToArray()))
                .Where(b => b.Bindings.Count > 0)
                .ToArray();
            Volatile.Write(ref _compiled, new Compiled(policySnapshot, bindingSnapshot, bound));
            return bound;
        }
    }

    private sealed record Compiled(
        ImmutableSortedDictionary<string, CachedObject>? Policies,
        ImmutableSortedDictionary<string, CachedObject>? Bindings,
        IReadOnlyList<BoundPolicy<TPolicy>> Bound);
}

/// <summary>A policy and the bindings that apply it.</summary>
internal sealed record BoundPolicy<TPolicy>(TPolicy Policy, IReadOnlyList<PolicyBinding> Bindings);
