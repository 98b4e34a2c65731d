using System.Text.Json;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.OpenApi;

/// <summary>
/// The /openapi/v2 and /openapi/v3 documents of the API, built from the schema model and the resource
/// catalog (interface facts only, no descriptions). The built-in documents are built once, on first use;
/// the builders also take other resources and definitions (for custom resources).
/// </summary>
public static class OpenApiDocuments
{
    private static readonly Lazy<OpenApiDocument> BuiltInV2 = new(() => BuildV2(ApiCatalog.Resources, ApiSchema.Definitions));
    private static readonly Lazy<OpenApiV3Documents> BuiltInV3 = new(() => BuildV3(ApiCatalog.Resources, ApiSchema.Definitions));

    // Kinds every group-version document references (watch events, delete options, status, patches).
    private static readonly string[] CommonDefinitions =
    [
        OpenApiWriter.DeleteOptionsDefinition, OpenApiWriter.PatchDefinition, OpenApiWriter.StatusDefinition,
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    ];

    /// <summary>The /openapi/v2 document of the built-in API.</summary>
    public static OpenApiDocument V2 => BuiltInV2.Value;

    /// <summary>The /openapi/v3 index and per group-version documents of the built-in API.</summary>
    public static OpenApiV3Documents V3 => BuiltInV3.Value;

    public static OpenApiDocument BuildV2(IEnumerable<ApiResource> resources, IReadOnlyDictionary<string, TypeSchema> definitions)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(definitions);
        return Write(w =>
        {
            var writer = new OpenApiWriter(w, v3: false);
            w.WriteStartObject();
            w.WriteStartObject("definitions");
            foreach (var (name, schema) in definitions.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(name);
                writer.WriteDefinition(schema);
            }

            w.WriteEndObject();
            WriteInfo(w);
            w.WriteStartObject("paths");
            foreach (var path in resources.SelectMany(r => OpenApiWriter.PathsOf(r, definitions)).OrderBy(p => p.Path, StringComparer.Ordinal))
            {
                writer.WritePath(path);
            }

            w.WriteEndObject();
            w.WriteStartArray("security");
            w.WriteStartObject();
            w.WriteStartArray("BearerToken");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("securityDefinitions");
            WriteBearerToken(w);
            w.WriteEndObject();
            w.WriteString("swagger", "2.0");
            w.WriteEndObject();
        });
    }

    public static OpenApiV3Documents BuildV3(IEnumerable<ApiResource> resources, IReadOnlyDictionary<string, TypeSchema> definitions)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(definitions);
        var documents = new SortedDictionary<string, OpenApiDocument>(StringComparer.Ordinal);
        foreach (var groupVersion in resources.GroupBy(r => r.Group.Length == 0 ? "api/v1" : $"apis/{r.Group}/{r.Version}"))
        {
            var paths = groupVersion.SelectMany(r => OpenApiWriter.PathsOf(r, definitions)).OrderBy(p => p.Path, StringComparer.Ordinal).ToList();
            var roots = paths.SelectMany(p => p.Operations).SelectMany(o => new[] { o.Body, o.Response }).OfType<string>()
                .Concat(groupVersion.Select(r => r.DefinitionName))
                .Concat(CommonDefinitions);
            var reachable = Reachable(roots, definitions);
            documents[groupVersion.Key] = Write(w =>
            {
                var writer = new OpenApiWriter(w, v3: true);
                w.WriteStartObject();
                w.WriteStartObject("components");
                w.WriteStartObject("schemas");
                foreach (var name in reachable)
                {
                    w.WritePropertyName(name);
                    writer.WriteDefinition(definitions[name]);
                }

                w.WriteEndObject();
                w.WriteStartObject("securitySchemes");
                WriteBearerToken(w);
                w.WriteEndObject();
                w.WriteEndObject();
                WriteInfo(w);
                w.WriteString("openapi", "3.0.0");
                w.WriteStartObject("paths");
                foreach (var path in paths)
                {
                    writer.WritePath(path);
                }

                w.WriteEndObject();
                w.WriteStartArray("security");
                w.WriteStartObject();
                w.WriteStartArray("BearerToken");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }

        var index = Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("paths");
            foreach (var (path, document) in documents)
            {
                w.WriteStartObject(path);
                w.WriteString("serverRelativeURL", $"/openapi/v3/{path}?hash={document.Hash}");
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        });
        return new OpenApiV3Documents(index, documents);
    }

    /// <summary>The named definitions reachable from <paramref name="roots"/>, sorted by name.</summary>
    private static SortedSet<string> Reachable(IEnumerable<string> roots, IReadOnlyDictionary<string, TypeSchema> definitions)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(roots.Where(definitions.ContainsKey));
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name))
            {
                continue;
            }

            foreach (var field in definitions[name].Properties.Values)
            {
                for (var type = field.Type; type is not null; type = type.Name is null ? type.Items : null)
                {
                    if (type.Name is not null && !seen.Contains(type.Name))
                    {
                        pending.Push(type.Name);
                    }
                }
            }
        }

        return seen;
    }

    private static void WriteInfo(Utf8JsonWriter w)
    {
        w.WriteStartObject("info");
        w.WriteString("title", "Kubernetes");
        w.WriteString("version", "unversioned");
        w.WriteEndObject();
    }

    private static void WriteBearerToken(Utf8JsonWriter w)
    {
        w.WriteStartObject("BearerToken");
        w.WriteString("in", "header");
        w.WriteString("name", "authorization");
        w.WriteString("type", "apiKey");
        w.WriteEndObject();
    }

    private static OpenApiDocument Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            write(w);
        }

        return new OpenApiDocument(stream.ToArray());
    }
}
