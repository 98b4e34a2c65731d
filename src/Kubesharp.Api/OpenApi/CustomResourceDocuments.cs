using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.OpenApi;

/// <summary>A custom resource of one version as its OpenAPI document publishes it: the resource and its openAPIV3Schema.</summary>
public sealed record CustomResourceKind(ApiResource Resource, JsonObject? Schema);

/// <summary>
/// The /openapi/v3 document of one custom resource group-version: the kinds' schemas as their definitions give them
/// (with apiVersion, kind, metadata and x-kubernetes-group-version-kind added), list kinds, and the same paths and
/// operations built-in kinds have, so kubectl explain and kubectl's field validation work for custom resources.
/// </summary>
public static class CustomResourceDocuments
{
    private const string ObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    private const string ListMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
    private const string Scale = "io.k8s.api.autoscaling.v1.Scale";

    private static readonly string[] CommonDefinitions =
    [
        ObjectMeta, ListMeta, OpenApiWriter.DeleteOptionsDefinition, OpenApiWriter.PatchDefinition, OpenApiWriter.StatusDefinition,
        "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    ];

    /// <summary>The definition name of a custom kind: the reversed group, the version and the kind (com.example.v1.Widget).</summary>
    public static string DefinitionName(string group, string version, string kind) =>
        string.Join('.', group.Split('.').Reverse()) + "." + version + "." + kind;

    public static OpenApiDocument Build(IReadOnlyList<CustomResourceKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(kinds);
        // Paths need to know the kinds' definitions by name; their content is written from the custom schemas below.
        var definitions = new Dictionary<string, TypeSchema>(StringComparer.Ordinal);
        if (ApiSchema.TryGetDefinition(Scale, out var scale))
        {
            definitions[Scale] = scale;
        }

        foreach (var kind in kinds)
        {
            var r = kind.Resource;
            definitions[r.DefinitionName] = new TypeSchema { Name = r.DefinitionName, Kind = SchemaKind.Object, GroupVersionKinds = [new GroupVersionKind(r.Group, r.Version, r.Kind)] };
            var listName = r.DefinitionName[..r.DefinitionName.LastIndexOf('.')] + "." + r.ListKind;
            definitions[listName] = new TypeSchema { Name = listName, Kind = SchemaKind.Object, GroupVersionKinds = [new GroupVersionKind(r.Group, r.Version, r.ListKind)] };
        }

        var paths = kinds.SelectMany(k => OpenApiWriter.PathsOf(k.Resource, definitions)).OrderBy(p => p.Path, StringComparer.Ordinal).ToList();
        var builtIn = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(CommonDefinitions.Append(Scale));
        while (pending.TryPop(out var name))
        {
            if (!builtIn.Add(name) || !ApiSchema.TryGetDefinition(name, out var schema))
            {
                continue;
            }

            foreach (var field in schema.Properties.Values)
            {
                for (var type = field.Type; type is not null; type = type.Name is null ? type.Items : null)
                {
                    if (type.Name is not null && !builtIn.Contains(type.Name))
                    {
                        pending.Push(type.Name);
                    }
                }
            }
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            var writer = new OpenApiWriter(w, v3: true, strategicMerge: false);
            w.WriteStartObject();
            w.WriteStartObject("components");
            w.WriteStartObject("schemas");
            var custom = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var kind in kinds)
            {
                var r = kind.Resource;
                custom[r.DefinitionName] = KindSchema(kind);
                custom[r.DefinitionName[..r.DefinitionName.LastIndexOf('.')] + "." + r.ListKind] = ListSchema(r);
            }

            foreach (var name in builtIn.Where(n => ApiSchema.Definitions.ContainsKey(n)).Select(n => (Name: n, Custom: false))
                .Concat(custom.Keys.Select(n => (Name: n, Custom: true))).OrderBy(n => n.Name, StringComparer.Ordinal))
            {
                w.WritePropertyName(name.Name);
                if (name.Custom)
                {
                    custom[name.Name].WriteTo(w);
                }
                else
                {
                    writer.WriteDefinition(ApiSchema.Definitions[name.Name]);
                }
            }

            w.WriteEndObject();
            w.WriteStartObject("securitySchemes");
            w.WriteStartObject("BearerToken");
            w.WriteString("in", "header");
            w.WriteString("name", "authorization");
            w.WriteString("type", "apiKey");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("info");
            w.WriteString("title", "Kubernetes CRD Swagger");
            w.WriteString("version", "v0.1.0");
            w.WriteEndObject();
            w.WriteString("openapi", "3.0.0");
            w.WriteStartObject("paths");
            foreach (var path in paths)
            {
                writer.WritePath(path);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return new OpenApiDocument(stream.ToArray());
    }

    /// <summary>
    /// The /openapi/v2 document of the live catalog: the built-in document with each custom kind's definition, list
    /// definition and paths added in name order, so kubectl's client-side validation and explain see custom resources.
    /// </summary>
    public static OpenApiDocument MergeV2(OpenApiDocument builtIn, IReadOnlyList<CustomResourceKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(builtIn);
        ArgumentNullException.ThrowIfNull(kinds);
        var definitions = new Dictionary<string, TypeSchema>(StringComparer.Ordinal);
        if (ApiSchema.TryGetDefinition(Scale, out var scale))
        {
            definitions[Scale] = scale;
        }

        var custom = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var kind in kinds)
        {
            var r = kind.Resource;
            var listName = r.DefinitionName[..r.DefinitionName.LastIndexOf('.')] + "." + r.ListKind;
            definitions[r.DefinitionName] = new TypeSchema { Name = r.DefinitionName, Kind = SchemaKind.Object, GroupVersionKinds = [new GroupVersionKind(r.Group, r.Version, r.Kind)] };
            definitions[listName] = new TypeSchema { Name = listName, Kind = SchemaKind.Object, GroupVersionKinds = [new GroupVersionKind(r.Group, r.Version, r.ListKind)] };
            custom[r.DefinitionName] = KindSchemaV2(kind);
            custom[listName] = ListSchemaV2(r);
        }

        var paths = kinds.SelectMany(k => OpenApiWriter.PathsOf(k.Resource, definitions)).ToDictionary(p => p.Path, StringComparer.Ordinal);
        using var parsed = JsonDocument.Parse(builtIn.Json);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            var writer = new OpenApiWriter(w, v3: false, strategicMerge: false);
            w.WriteStartObject();
            foreach (var member in parsed.RootElement.EnumerateObject())
            {
                switch (member.Name)
                {
                    case "definitions":
                        w.WriteStartObject(member.Name);
                        var builtInDefinitions = member.Value.EnumerateObject().Where(d => !custom.ContainsKey(d.Name)).ToDictionary(d => d.Name, d => d.Value, StringComparer.Ordinal);
                        foreach (var name in builtInDefinitions.Keys.Concat(custom.Keys).Order(StringComparer.Ordinal))
                        {
                            w.WritePropertyName(name);
                            if (custom.TryGetValue(name, out var schema))
                            {
                                schema.WriteTo(w);
                            }
                            else
                            {
                                builtInDefinitions[name].WriteTo(w);
                            }
                        }

                        w.WriteEndObject();
                        break;
                    case "paths":
                        w.WriteStartObject(member.Name);
                        var builtInPaths = member.Value.EnumerateObject().Where(p => !paths.ContainsKey(p.Name)).ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                        foreach (var name in builtInPaths.Keys.Concat(paths.Keys).Order(StringComparer.Ordinal))
                        {
                            if (paths.TryGetValue(name, out var path))
                            {
                                writer.WritePath(path);
                            }
                            else
                            {
                                w.WritePropertyName(name);
                                builtInPaths[name].WriteTo(w);
                            }
                        }

                        w.WriteEndObject();
                        break;
                    default:
                        member.WriteTo(w);
                        break;
                }
            }

            w.WriteEndObject();
        }

        return new OpenApiDocument(stream.ToArray());
    }

    private static JsonObject KindSchemaV2(CustomResourceKind kind)
    {
        var r = kind.Resource;
        var schema = kind.Schema is null ? [] : ToV2(kind.Schema);
        var gvk = new JsonArray(new JsonObject { ["group"] = r.Group, ["kind"] = r.Kind, ["version"] = r.Version });
        if (schema["type"] is null && schema["properties"] is null)
        {
            // A root that keeps unknown fields stays untyped: kubectl would refuse every field a typed kind does not list.
            schema["x-kubernetes-group-version-kind"] = gvk;
            return schema;
        }

        var properties = schema["properties"] as JsonObject;
        if (properties is null)
        {
            schema["properties"] = properties = [];
        }

        properties["apiVersion"] = new JsonObject { ["type"] = "string" };
        properties["kind"] = new JsonObject { ["type"] = "string" };
        properties["metadata"] = new JsonObject { ["$ref"] = "#/definitions/" + ObjectMeta };
        schema["type"] = "object";
        schema["x-kubernetes-group-version-kind"] = gvk;
        return schema;
    }

    private static JsonObject ListSchemaV2(ApiResource r) => new()
    {
        ["properties"] = new JsonObject
        {
            ["apiVersion"] = new JsonObject { ["type"] = "string" },
            ["items"] = new JsonObject { ["items"] = new JsonObject { ["$ref"] = "#/definitions/" + r.DefinitionName }, ["type"] = "array" },
            ["kind"] = new JsonObject { ["type"] = "string" },
            ["metadata"] = new JsonObject { ["$ref"] = "#/definitions/" + ListMeta },
        },
        ["required"] = new JsonArray("items"),
        ["type"] = "object",
        ["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = r.Group, ["kind"] = r.ListKind, ["version"] = r.Version }),
    };

    /// <summary>
    /// A structural openAPIV3Schema in the form OpenAPI v2 can carry, as kube-apiserver publishes it: combinators
    /// (allOf, anyOf, oneOf, not) are dropped, and a nullable or unknown-field-preserving node loses its type,
    /// properties and items, since kubectl's v2 validation would otherwise reject nulls and unknown fields.
    /// </summary>
    private static JsonObject ToV2(JsonObject schema)
    {
        var result = new JsonObject();
        var untyped = schema["nullable"] is JsonValue n && n.TryGetValue<bool>(out var nullable) && nullable
            || schema["x-kubernetes-preserve-unknown-fields"] is JsonValue p && p.TryGetValue<bool>(out var preserve) && preserve;
        foreach (var (name, value) in schema)
        {
            switch (name)
            {
                case "allOf" or "anyOf" or "oneOf" or "not" or "nullable" or "x-kubernetes-preserve-unknown-fields":
                    break;
                case "type" or "items" or "properties" when untyped:
                    break;
                case "properties" when value is JsonObject properties:
                    var converted = new JsonObject();
                    foreach (var (property, propertySchema) in properties)
                    {
                        converted[property] = propertySchema is JsonObject o ? ToV2(o) : propertySchema?.DeepClone();
                    }

                    result[name] = converted;
                    break;
                case "items" or "additionalProperties" when value is JsonObject inner:
                    result[name] = ToV2(inner);
                    break;
                default:
                    result[name] = value?.DeepClone();
                    break;
            }
        }

        return result;
    }

    private static JsonObject KindSchema(CustomResourceKind kind)
    {
        var r = kind.Resource;
        var schema = kind.Schema?.DeepClone().AsObject() ?? new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
        var properties = schema["properties"] as JsonObject;
        if (properties is null)
        {
            schema["properties"] = properties = [];
        }

        properties["apiVersion"] = new JsonObject { ["type"] = "string" };
        properties["kind"] = new JsonObject { ["type"] = "string" };
        properties["metadata"] = new JsonObject { ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = "#/components/schemas/" + ObjectMeta }) };
        schema["type"] ??= "object";
        schema["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = r.Group, ["kind"] = r.Kind, ["version"] = r.Version });
        return schema;
    }

    private static JsonObject ListSchema(ApiResource r) => new()
    {
        ["type"] = "object",
        ["required"] = new JsonArray("items"),
        ["properties"] = new JsonObject
        {
            ["apiVersion"] = new JsonObject { ["type"] = "string" },
            ["items"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["$ref"] = "#/components/schemas/" + r.DefinitionName } },
            ["kind"] = new JsonObject { ["type"] = "string" },
            ["metadata"] = new JsonObject { ["allOf"] = new JsonArray(new JsonObject { ["$ref"] = "#/components/schemas/" + ListMeta }) },
        },
        ["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = r.Group, ["kind"] = r.ListKind, ["version"] = r.Version }),
    };
}
