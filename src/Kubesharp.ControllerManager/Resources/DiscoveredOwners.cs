using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Resources;

/// <summary>What an owner lookup through discovery found.</summary>
internal sealed record DiscoveredOwner(bool Namespaced, string? Uid, bool DeletingDependents);

/// <summary>
/// Owners of kinds without a generated type (custom resources): the resource is found through the group-version's
/// discovery document and the owner read as JSON, as any client would.
/// </summary>
internal sealed class DiscoveredOwners(KubernetesClient client, TimeProvider time)
{
    private static readonly TimeSpan DiscoveryLifetime = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, (DateTimeOffset Fetched, JsonArray? Resources)> _groupVersions = new(StringComparer.Ordinal);

    /// <summary>
    /// The owner named by an owner reference; null when no served resource has that kind (nothing can be said),
    /// a result with a null uid when the owner does not exist.
    /// </summary>
    public async Task<DiscoveredOwner?> GetAsync(string apiVersion, string kind, string? @namespace, string name, CancellationToken cancellationToken)
    {
        var root = apiVersion.Contains('/', StringComparison.Ordinal) ? $"/apis/{apiVersion}" : $"/api/{apiVersion}";
        var now = time.GetUtcNow();
        if (!_groupVersions.TryGetValue(apiVersion, out var cached) || now - cached.Fetched > DiscoveryLifetime)
        {
            var document = await client.GetJsonAsync(root, cancellationToken).ConfigureAwait(false);
            cached = (now, document?["resources"] as JsonArray);
            _groupVersions[apiVersion] = cached;
        }

        var resource = cached.Resources?.OfType<JsonObject>()
            .FirstOrDefault(r => (string?)r["kind"] == kind && ((string?)r["name"])?.Contains('/', StringComparison.Ordinal) == false);
        if (resource is null)
        {
            return null;
        }

        var namespaced = (bool?)resource["namespaced"] == true;
        if (namespaced && @namespace is null)
        {
            return new DiscoveredOwner(namespaced, null, false);
        }

        var path = namespaced ? $"{root}/namespaces/{@namespace}/{resource["name"]}/{name}" : $"{root}/{resource["name"]}/{name}";
        var owner = await client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false);
        var meta = owner?["metadata"] as JsonObject;
        var deleting = meta?["deletionTimestamp"] is not null &&
            (meta["finalizers"] as JsonArray)?.Any(f => (string?)f == "foregroundDeletion") == true;
        return new DiscoveredOwner(namespaced, (string?)meta?["uid"], deleting);
    }
}
