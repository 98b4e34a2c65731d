using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.Client.Discovery;

/// <summary>
/// Reads the server's aggregated discovery (apidiscovery.k8s.io/v2: /api and /apis, two requests for every group,
/// version and resource the server serves), as client-go's discovery client does, so a component can work over every
/// served resource, custom ones included.
/// </summary>
public sealed class DiscoveryClient(KubernetesClient client)
{
    private const string AggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

    /// <summary>
    /// Every top-level resource (no subresources) in its group's preferred version (the first the lists name); the
    /// core group's v1 first. A version the server marks Stale (an aggregated API that does not answer) is a failed
    /// group-version: its resources are unknown rather than gone.
    /// </summary>
    public async Task<DiscoveredResources> ServerPreferredResourcesAsync(CancellationToken cancellationToken = default)
    {
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var resources = new List<ApiResource>();
        foreach (var path in (string[])["/api", "/apis"])
        {
            foreach (var group in (await GetAsync(path, cancellationToken).ConfigureAwait(false))?["items"] as JsonArray ?? [])
            {
                var name = (string?)group?["metadata"]?["name"] ?? string.Empty;
                if ((group?["versions"] as JsonArray)?.FirstOrDefault() is not JsonObject preferred || (string?)preferred["version"] is not { } version)
                {
                    continue;
                }

                if ((string?)preferred["freshness"] == "Stale")
                {
                    failed.Add(name.Length == 0 ? version : $"{name}/{version}");
                    continue;
                }

                foreach (var entry in (preferred["resources"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if ((string?)entry["resource"] is { Length: > 0 } plural && (string?)entry["responseKind"]?["kind"] is { Length: > 0 } kind)
                    {
                        resources.Add(new ApiResource
                        {
                            Group = name,
                            Version = version,
                            Resource = plural,
                            Kind = kind,
                            ListKind = kind + "List",
                            SingularName = (string?)entry["singularResource"] ?? string.Empty,
                            Namespaced = (string?)entry["scope"] == "Namespaced",
                            Verbs = Strings(entry["verbs"]),
                            ShortNames = Strings(entry["shortNames"]),
                            Categories = Strings(entry["categories"]),
                            DefinitionName = string.Empty,
                        });
                    }
                }
            }
        }

        return new DiscoveredResources(resources, failed);
    }

    private async Task<JsonObject?> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", AggregatedAccept);
        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        var document = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)) as JsonObject;
        return (string?)document?["kind"] == "APIGroupDiscoveryList"
            ? document
            : throw new JsonException($"{path} did not answer with an aggregated discovery list (apidiscovery.k8s.io/v2)");
    }

    private static List<string> Strings(JsonNode? array) => (array as JsonArray ?? []).Select(v => (string?)v).OfType<string>().ToList();
}
