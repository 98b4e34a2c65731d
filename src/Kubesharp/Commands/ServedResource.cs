using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;

namespace Kubesharp.Commands;

/// <summary>A resource as discovery names it, found the way kubectl finds one: plural, singular, short name or kind, optionally .GROUP.</summary>
internal sealed record ServedResource(string Group, string Version, string Resource, string Kind, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    private string Root => Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";

    public string CollectionPath(string @namespace) => Namespaced ? $"{Root}/namespaces/{Uri.EscapeDataString(@namespace)}/{Resource}" : $"{Root}/{Resource}";

    public string ObjectPath(string @namespace, string name) => $"{CollectionPath(@namespace)}/{Uri.EscapeDataString(name)}";

    /// <summary>
    /// RESOURCE.VERSION.GROUP names that version when the group serves it, as kubectl reads it; otherwise the core
    /// group first, then every group's preferred version, as kubectl's resource mapping prefers.
    /// </summary>
    public static async Task<ServedResource> FindAsync(KubernetesClient client, string text, CancellationToken cancellationToken)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var (name, group) = dot < 0 ? (text, (string?)null) : (text[..dot], text[(dot + 1)..]);
        var versions = new List<(string Group, string Version)>();
        if (group is null or "")
        {
            versions.Add((string.Empty, "v1"));
        }

        if (group is not "")
        {
            var groups = ((await client.GetJsonAsync("/apis", cancellationToken).ConfigureAwait(false))?["groups"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            var second = group?.IndexOf('.', StringComparison.Ordinal) ?? -1;
            if (second > 0)
            {
                var (named, inGroup) = (group![..second], group[(second + 1)..]);
                if (groups.Any(g => (string?)g["name"] == inGroup && (g["versions"] as JsonArray ?? []).Any(v => (string?)v?["version"] == named)))
                {
                    versions.Add((inGroup, named));
                }
            }

            foreach (var apiGroup in groups)
            {
                if ((string?)apiGroup["name"] is { } groupName && (group is null || groupName == group) && (string?)apiGroup["preferredVersion"]?["version"] is { } version)
                {
                    versions.Add((groupName, version));
                }
            }
        }

        foreach (var (groupName, version) in versions)
        {
            var path = groupName.Length == 0 ? $"/api/{version}" : $"/apis/{groupName}/{version}";
            foreach (var resource in (await client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false))?["resources"] as JsonArray ?? [])
            {
                if ((string?)resource?["name"] is not { } plural || plural.Contains('/', StringComparison.Ordinal))
                {
                    continue;
                }

                var kind = (string?)resource["kind"] ?? string.Empty;
                var names = new[] { plural, (string?)resource["singularName"] ?? string.Empty, kind }
                    .Concat((resource["shortNames"] as JsonArray ?? []).Select(n => (string?)n ?? string.Empty));
                if (names.Any(n => n.Length > 0 && string.Equals(n, name, StringComparison.OrdinalIgnoreCase)))
                {
                    return new ServedResource(groupName, version, plural, kind, (bool?)resource["namespaced"] ?? false);
                }
            }
        }

        throw new StatusException(404, "NotFound", $"the server doesn't have a resource type \"{text}\"");
    }

    /// <summary>The resource serving objects of <paramref name="kind"/> in <paramref name="apiVersion"/>, as a manifest names them.</summary>
    public static async Task<ServedResource> FindByKindAsync(KubernetesClient client, string apiVersion, string kind, CancellationToken cancellationToken)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var (group, version) = slash < 0 ? (string.Empty, apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        var path = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        foreach (var resource in (await client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false))?["resources"] as JsonArray ?? [])
        {
            if ((string?)resource?["name"] is { } plural && !plural.Contains('/', StringComparison.Ordinal) && (string?)resource["kind"] == kind)
            {
                return new ServedResource(group, version, plural, kind, (bool?)resource["namespaced"] ?? false);
            }
        }

        throw new StatusException(404, "NotFound", $"no matches for kind \"{kind}\" in version \"{apiVersion}\"");
    }
}
