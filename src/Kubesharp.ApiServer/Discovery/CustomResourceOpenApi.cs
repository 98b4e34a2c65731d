using System.Collections.Concurrent;
using System.Text.Json;
using Kubesharp.Api.OpenApi;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Registry.CustomResources;

namespace Kubesharp.ApiServer.Discovery;

/// <summary>
/// The /openapi/v3 documents of the custom resources of one catalog snapshot, one per group-version, each built on
/// first request; the v3 index with their entries added to the built-in ones; and the v2 document with them added.
/// </summary>
internal sealed class CustomResourceOpenApi
{
    private readonly Dictionary<string, List<CustomResourceKind>> _byPath = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<OpenApiDocument>> _documents = new(StringComparer.Ordinal);
    private OpenApiDocument? _index;
    private OpenApiDocument? _v2;

    public CustomResourceOpenApi(CatalogSnapshot snapshot)
    {
        foreach (var definition in snapshot.Definitions.OfType<CustomResourceVersion>())
        {
            var path = $"apis/{definition.Resource.Group}/{definition.Resource.Version}";
            if (!_byPath.TryGetValue(path, out var kinds))
            {
                _byPath[path] = kinds = [];
            }

            kinds.Add(definition.OpenApiKind);
        }
    }

    public bool IsEmpty => _byPath.Count == 0;

    public bool TryGet(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OpenApiDocument? document)
    {
        path = path.Trim('/');
        if (!_byPath.TryGetValue(path, out var kinds))
        {
            document = null;
            return false;
        }

        document = _documents.GetOrAdd(path, _ => new Lazy<OpenApiDocument>(() => CustomResourceDocuments.Build(kinds))).Value;
        return true;
    }

    /// <summary>The /openapi/v2 document: the built-in one with the custom kinds added (the built-in one when there are none).</summary>
    public OpenApiDocument V2(OpenApiDocument builtIn)
    {
        if (IsEmpty)
        {
            return builtIn;
        }

        if (Volatile.Read(ref _v2) is { } cached)
        {
            return cached;
        }

        var document = CustomResourceDocuments.MergeV2(builtIn, [.. _byPath.Values.SelectMany(k => k)]);
        Volatile.Write(ref _v2, document);
        return document;
    }

    /// <summary>The built-in index with an entry per custom group-version.</summary>
    public OpenApiDocument Index(OpenApiDocument? builtIn)
    {
        if (Volatile.Read(ref _index) is { } cached)
        {
            return cached;
        }

        var paths = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (builtIn is not null)
        {
            using var parsed = JsonDocument.Parse(builtIn.Json);
            foreach (var entry in parsed.RootElement.GetProperty("paths").EnumerateObject())
            {
                paths[entry.Name] = entry.Value.GetProperty("serverRelativeURL").GetString()!;
            }
        }

        foreach (var path in _byPath.Keys)
        {
            TryGet(path, out var document);
            paths[path] = $"/openapi/v3/{path}?hash={document!.Hash}";
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartObject("paths");
            foreach (var (path, url) in paths)
            {
                w.WriteStartObject(path);
                w.WriteString("serverRelativeURL", url);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        var index = new OpenApiDocument(stream.ToArray());
        Volatile.Write(ref _index, index);
        return index;
    }
}
