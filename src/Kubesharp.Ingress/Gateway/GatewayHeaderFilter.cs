using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// An HTTPRoute RequestHeaderModifier or ResponseHeaderModifier: <c>set</c> replaces a header, <c>add</c> appends to
/// its values (comma-separated, as upstream's example shows), <c>remove</c> drops it; names compare without case.
/// </summary>
internal sealed class GatewayHeaderFilter
{
    private readonly KeyValuePair<string, string>[] set;
    private readonly KeyValuePair<string, string>[] add;
    private readonly string[] remove;

    private GatewayHeaderFilter(KeyValuePair<string, string>[] set, KeyValuePair<string, string>[] add, string[] remove)
    {
        this.set = set;
        this.add = add;
        this.remove = remove;
    }

    public static GatewayHeaderFilter Parse(JsonObject? spec) => new(Headers(spec?["set"]), Headers(spec?["add"]), [.. (spec?["remove"] as JsonArray ?? []).Select(n => (string?)n ?? string.Empty)]);

    /// <summary>This filter, then <paramref name="next"/> (a rule's, then its backendRef's).</summary>
    public GatewayHeaderFilter Then(GatewayHeaderFilter? next) => next is null ? this : new([.. set, .. next.set], [.. add, .. next.add], [.. remove, .. next.remove]);

    /// <summary>Changes the headers of the request sent to the backend (content headers live on its content).</summary>
    public void Apply(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var (name, value) in set)
        {
            Remove(request, name);
            Add(request, name, value);
        }

        foreach (var (name, value) in add)
        {
            var current = Values(request, name);
            Remove(request, name);
            Add(request, name, current is null ? value : current + "," + value);
        }

        foreach (var name in remove)
        {
            Remove(request, name);
        }
    }

    /// <summary>Changes the headers of the response sent to the client.</summary>
    public void Apply(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var (name, value) in set)
        {
            headers[name] = value;
        }

        foreach (var (name, value) in add)
        {
            headers[name] = headers.TryGetValue(name, out var current) && current.Count > 0 ? new StringValues(current.ToString() + "," + value) : new StringValues(value);
        }

        foreach (var name in remove)
        {
            headers.Remove(name);
        }
    }

    private static KeyValuePair<string, string>[] Headers(JsonNode? list) =>
        [.. (list as JsonArray ?? []).OfType<JsonObject>().Select(h => new KeyValuePair<string, string>((string?)h["name"] ?? string.Empty, (string?)h["value"] ?? string.Empty))];

    private static string? Values(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) || (request.Content?.Headers.TryGetValues(name, out values) ?? false) ? string.Join(',', values) : null;

    private static void Remove(HttpRequestMessage request, string name)
    {
        request.Headers.Remove(name);
        request.Content?.Headers.Remove(name);
    }

    private static void Add(HttpRequestMessage request, string name, string value)
    {
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            request.Content?.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
