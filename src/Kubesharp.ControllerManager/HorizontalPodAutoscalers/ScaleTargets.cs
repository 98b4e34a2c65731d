using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>
/// Reads and writes the scale subresource of any kind that has one (Deployment, ReplicaSet, StatefulSet, custom
/// resources), found through discovery from the target's apiVersion and kind, like upstream's scale client.
/// </summary>
internal sealed class ScaleTargets(KubernetesClient client)
{
    private readonly ConcurrentDictionary<(string ApiVersion, string Kind), string> resources = new();

    /// <summary>The target's Scale (autoscaling/v1) as JSON.</summary>
    public async Task<(string Path, JsonObject Scale)> GetAsync(string @namespace, string? apiVersion, string kind, string name, CancellationToken cancellationToken)
    {
        var path = await PathAsync(@namespace, apiVersion ?? string.Empty, kind, name, cancellationToken).ConfigureAwait(false);
        var scale = await client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false);
        if (scale is null)
        {
            resources.TryRemove((apiVersion ?? string.Empty, kind), out _);
            throw new StatusException(404, "NotFound", $"{Resource(path)} \"{name}\" not found");
        }

        return (path, scale);
    }

    /// <summary>Writes the Scale with <c>spec.replicas</c> set.</summary>
    public async Task UpdateAsync(string path, JsonObject scale, int replicas, CancellationToken cancellationToken)
    {
        var body = scale.DeepClone().AsObject();
        var spec = body["spec"] as JsonObject ?? [];
        body["spec"] = spec;
        spec["replicas"] = replicas;
        _ = await client.SendJsonAsync(HttpMethod.Put, path, body, cancellationToken).ConfigureAwait(false)
            ?? throw new StatusException(404, "NotFound", $"{Resource(path)} \"{(string?)scale["metadata"]?["name"]}\" not found");
    }

    private async Task<string> PathAsync(string @namespace, string apiVersion, string kind, string name, CancellationToken cancellationToken)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        if (apiVersion.Length == 0 || apiVersion.Count(c => c == '/') > 1)
        {
            throw new StatusException(400, "BadRequest", $"unexpected GroupVersion string: {apiVersion}");
        }

        var prefix = group.Length == 0 ? "/api/" + apiVersion : "/apis/" + apiVersion;
        if (!resources.TryGetValue((apiVersion, kind), out var resource))
        {
            var document = await client.GetJsonAsync(prefix, cancellationToken).ConfigureAwait(false);
            var all = (document?["resources"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            var names = all.Select(r => (string?)r["name"]).ToHashSet(StringComparer.Ordinal);
            resource = all.Where(r => (string?)r["kind"] == kind && (string?)r["name"] is { } n && !n.Contains('/', StringComparison.Ordinal))
                .Select(r => (string?)r["name"]).FirstOrDefault(n => names.Contains(n + "/scale"))
                ?? throw new StatusException(404, "NotFound", $"no matches for kind \"{kind}\" in group \"{group}\"");
            resources[(apiVersion, kind)] = resource;
        }

        return $"{prefix}/namespaces/{Uri.EscapeDataString(@namespace)}/{resource}/{Uri.EscapeDataString(name)}/scale";
    }

    /// <summary>"deployments.apps" from a scale path, as upstream's errors name a resource.</summary>
    private static string Resource(string path)
    {
        var parts = path.Split('/');
        var group = parts[1] == "api" ? string.Empty : parts[2];
        var resource = parts[^3];
        return group.Length == 0 ? resource : resource + "." + group;
    }
}
