using System.Collections.Immutable;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// The webhooks of the stored Mutating- or ValidatingWebhookConfigurations, in upstream's order (configurations by
/// name, webhooks as listed), parsed again only when the watch cache's snapshot of them changes.
/// </summary>
internal sealed class WebhookSource(ResourceRegistry registry, string groupResource, bool mutating)
{
    private Compiled _compiled = new(null, []);

    public IReadOnlyList<Webhook> Current
    {
        get
        {
            if (registry.FindByGroupResource(groupResource) is not { } resource)
            {
                return [];
            }

            var snapshot = registry.Cache.For(resource).Snapshot;
            var compiled = Volatile.Read(ref _compiled);
            if (ReferenceEquals(compiled.Snapshot, snapshot))
            {
                return compiled.Webhooks;
            }

            var webhooks = snapshot.Values
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .SelectMany(c => Webhook.ParseConfiguration(c.Root, mutating))
                .ToArray();
            Volatile.Write(ref _compiled, new Compiled(snapshot, webhooks));
            return webhooks;
        }
    }

    private sealed record Compiled(ImmutableSortedDictionary<string, CachedObject>? Snapshot, IReadOnlyList<Webhook> Webhooks);
}
