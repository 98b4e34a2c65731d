using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.Client.Discovery;

/// <summary>
/// Reads the server's discovery documents (/api, /apis and each group-version's resource list), as client-go's
/// discovery client does, so a component can work over every served resource, custom ones included.
/// </summary>
public sealed class DiscoveryClient(KubernetesClient client)
{
    /// <summary>
    /// Every top-level resource (no subresources) in its group's preferred version; the core group's v1 first.
    /// </summary>
    public async Task<DiscoveredResources> ServerPreferredResourcesAsync(CancellationToken cancellationToken = default)
    {
        var groupVersions = new List<(string Group, string Version)>();
        foreach (var version in (await client.GetJsonAsync("/api", cancellationToken).ConfigureAwait(false))?["versions"] as JsonArray ?? [])
        {
            if ((string?)version is { } v)
            {
                groupVersions.Add((string.Empty, v));
                break;
            }
        }

        foreach (var group in (await client.GetJsonAsync("/apis", cancellationToken).ConfigureAwait(false))?["groups"] as JsonArray ?? [])
        {
            if ((string?)group?["name"] is { } name && (string?)group["preferredVersion"]?["version"] is { } preferred)
            {
                groupVersions.Add((name, preferred));
            }
        }

        var lists = await Task.WhenAll(groupVersions.Select(gv => ResourcesOfAsync(gv.Group, gv.Version, cancellationToken))).ConfigureAwait(false);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var resources = new List<ApiResource>();
        for (var i = 0; i < lists.Length; i++)
        {
            if (lists[i] is { } list)
            {
                resources.AddRange(list);
            }
            else
            {
                var (group, version) = groupVersions[i];
                failed.Add(group.Length == 0 ? version : $"{group}/{version}");
            }
        }

        return new DiscoveredResources(resources, failed);
    }

    /// <summary>The resources of one group-version; null when it could not be read.</summary>
    private async Task<List<ApiResource>?> ResourcesOfAsync(string group, string version, CancellationToken cancellationToken)
    {
        JsonObject? document;
        try
        {
            document = await client.GetJsonAsync(group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StatusException or HttpRequestException or System.Text.Json.JsonException)
        {
            return null;
        }

        if (document?["resources"] is not JsonArray entries)
        {
            return null;
        }

        var resources = new List<ApiResource>();
        foreach (var entry in entries.OfType<JsonObject>())
        {
            if ((string?)entry["name"] is not { Length: > 0 } plural || plural.Contains('/', StringComparison.Ordinal) || (string?)entry["kind"] is not { Length: > 0 } kind)
            {
                continue;
            }

            resources.Add(new ApiResource
            {
                Group = group,
                Version = version,
                Resource = plural,
                Kind = kind,
                ListKind = kind + "List",
                SingularName = (string?)entry["singularName"] ?? string.Empty,
                Namespaced = (bool?)entry["namespaced"] ?? false,
                Verbs = (entry["verbs"] as JsonArray ?? []).Select(v => (string?)v).OfType<string>().ToList(),
                ShortNames = (entry["shortNames"] as JsonArray ?? []).Select(v => (string?)v).OfType<string>().ToList(),
                Categories = (entry["categories"] as JsonArray ?? []).Select(v => (string?)v).OfType<string>().ToList(),
                DefinitionName = string.Empty,
            });
        }

        return resources;
    }
}
