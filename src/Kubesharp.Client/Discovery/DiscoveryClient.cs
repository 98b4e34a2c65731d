using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.Client.Discovery;

/// <summary>
/// Reads the server's aggregated discovery (apidiscovery.k8s.io/v2: /api and /apis, two requests for every group,
/// version and resource the server serves), as client-go's discovery client does, so a component can work over every
/// served resource, custom ones included. Each document is kept with its entity tag and asked for again with it:
/// while nothing changed, the server answers 304 without a body and nothing is parsed.
/// </summary>
public sealed class DiscoveryClient(KubernetesClient client)
{
    private const string AggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

    private static readonly string[] Paths = ["/api", "/apis"];

    /// <summary>The last document read from each path, as what it lists; replaced whole, so concurrent callers share it safely.</summary>
    private readonly Dictionary<string, ReadDocument> _documents = new(StringComparer.Ordinal);

    /// <summary>
    /// Every top-level resource (no subresources) in its group's preferred version (the first the lists name); the
    /// core group's v1 first. A version the server marks Stale (an aggregated API that does not answer) is a failed
    /// group-version: its resources are unknown rather than gone.
    /// </summary>
    public async Task<DiscoveredResources> ServerPreferredResourcesAsync(CancellationToken cancellationToken = default)
    {
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var resources = new List<ApiResource>();
        foreach (var path in Paths)
        {
            var document = await ReadAsync(path, cancellationToken).ConfigureAwait(false);
            resources.AddRange(document.Resources);
            failed.UnionWith(document.FailedGroupVersions);
        }

        return new DiscoveredResources(resources, failed);
    }

    private async Task<ReadDocument> ReadAsync(string path, CancellationToken cancellationToken)
    {
        ReadDocument? held;
        lock (_documents)
        {
            _documents.TryGetValue(path, out held);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", AggregatedAccept);
        if (held?.ETag is { } etag)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        }

        using var response = await client.SendAsync(request, streaming: false, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotModified && held is not null)
        {
            return held;
        }

        var document = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)) as JsonObject;
        if ((string?)document?["kind"] != "APIGroupDiscoveryList")
        {
            throw new JsonException($"{path} did not answer with an aggregated discovery list (apidiscovery.k8s.io/v2)");
        }

        var read = Read(document!, response.Headers.ETag?.ToString());
        lock (_documents)
        {
            _documents[path] = read;
        }

        return read;
    }

    private static ReadDocument Read(JsonObject document, string? etag)
    {
        var failed = new List<string>();
        var resources = new List<ApiResource>();
        foreach (var group in document["items"] as JsonArray ?? [])
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

        return new ReadDocument(etag, resources, failed);
    }

    private static List<string> Strings(JsonNode? array) => (array as JsonArray ?? []).Select(v => (string?)v).OfType<string>().ToList();

    /// <summary>What one discovery document lists, and the entity tag it came with (none when the server sent none).</summary>
    private sealed record ReadDocument(string? ETag, IReadOnlyList<ApiResource> Resources, IReadOnlyList<string> FailedGroupVersions);
}
