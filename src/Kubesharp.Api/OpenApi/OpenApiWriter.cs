using System.Text.Json;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Api.OpenApi;

/// <summary>
/// Writes schemas and resource paths in OpenAPI v2 or v3 form. Only interface facts are published (no
/// descriptions); operations carry x-kubernetes-action and x-kubernetes-group-version-kind, and write
/// operations list the fieldValidation parameter, which is how kubectl decides to use server-side validation.
/// </summary>
internal sealed class OpenApiWriter(Utf8JsonWriter w, bool v3, bool strategicMerge = true)
{
    public const string StatusDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
    public const string PatchDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
    public const string DeleteOptionsDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";

    private const string QuantityDefinition = "io.k8s.apimachinery.pkg.api.resource.Quantity";
    private const string IntOrStringDefinition = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

    // Subresources that stream or proxy rather than read and write an object.
    private static readonly HashSet<string> ConnectSubresources = new(StringComparer.Ordinal) { "attach", "exec", "log", "portforward", "proxy" };

    // Definitions the spec leaves untyped (arbitrary JSON); the others of kind Any are JSON objects.
    private static readonly HashSet<string> UntypedDefinitions = new(StringComparer.Ordinal)
    {
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
    };

    private static readonly string[] PatchContentTypes =
    [
        "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
    ];

    // Custom resources take no strategic merge patch; kubectl apply picks its patch type from this list.
    private static readonly string[] PatchContentTypesWithoutStrategic = [.. PatchContentTypes.Where(t => t != "application/strategic-merge-patch+json")];

    private string[] PatchTypes => strategicMerge ? PatchContentTypes : PatchContentTypesWithoutStrategic;

    private string RefPrefix => v3 ? "#/components/schemas/" : "#/definitions/";

    public void WriteDefinition(TypeSchema schema)
    {
        w.WriteStartObject();
        switch (schema.Name)
        {
            case QuantityDefinition when v3:
                WriteOneOf("string", "number");
                break;
            case IntOrStringDefinition when v3:
                w.WriteString("format", "int-or-string");
                WriteOneOf("integer", "string");
                break;
            case IntOrStringDefinition:
                w.WriteString("format", "int-or-string");
                w.WriteString("type", "string");
                break;
            default:
                if (schema.Kind == SchemaKind.Object)
                {
                    WriteProperties(schema);
                }
                else if (schema.Kind != SchemaKind.Any || !UntypedDefinitions.Contains(schema.Name!))
                {
                    WriteInlineBody(schema);
                }

                break;
        }

        if (schema.MapType is not null)
        {
            w.WriteString("x-kubernetes-map-type", schema.MapType);
        }

        if (schema.GroupVersionKinds.Count > 0)
        {
            w.WriteStartArray("x-kubernetes-group-version-kind");
            foreach (var gvk in schema.GroupVersionKinds)
            {
                WriteGroupVersionKind(gvk);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private void WriteOneOf(string first, string second)
    {
        w.WriteStartArray("oneOf");
        w.WriteStartObject();
        w.WriteString("type", first);
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", second);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private void WriteProperties(TypeSchema schema)
    {
        if (schema.Properties.Count > 0)
        {
            w.WriteStartObject("properties");
            foreach (var field in schema.Properties.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                w.WritePropertyName(field.Name);
                w.WriteStartObject();
                WriteTypeBody(field.Type);
                WriteOptional("x-kubernetes-list-map-keys", field.ListMapKeys);
                WriteOptional("x-kubernetes-list-type", field.ListType);
                WriteOptional("x-kubernetes-map-type", field.MapType);
                WriteOptional("x-kubernetes-patch-merge-key", field.PatchMergeKey);
                WriteOptional("x-kubernetes-patch-strategy", field.PatchStrategy);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        if (schema.Required.Count > 0)
        {
            w.WriteStartArray("required");
            foreach (var r in schema.Required)
            {
                w.WriteStringValue(r);
            }

            w.WriteEndArray();
        }

        w.WriteString("type", "object");
    }

    /// <summary>The members of a schema object for a type: a reference for named types, else the inline shape.</summary>
    private void WriteTypeBody(TypeSchema type)
    {
        if (type.Name is not null)
        {
            w.WriteString("$ref", RefPrefix + type.Name);
        }
        else
        {
            WriteInlineBody(type);
        }
    }

    private void WriteInlineBody(TypeSchema type)
    {
        if (type.Format is not null)
        {
            w.WriteString("format", type.Format);
        }

        switch (type.Kind)
        {
            case SchemaKind.Array:
                w.WritePropertyName("items");
                WriteTypeObject(type.Items!);
                w.WriteString("type", "array");
                break;
            case SchemaKind.Map:
                w.WritePropertyName("additionalProperties");
                WriteTypeObject(type.Items!);
                w.WriteString("type", "object");
                break;
            case SchemaKind.Object or SchemaKind.Any:
                w.WriteString("type", "object");
                break;
            case SchemaKind.IntOrString:
                w.WriteString("type", "string");
                break;
            default:
                w.WriteString("type", type.Kind.ToString().ToLowerInvariant());
                break;
        }

        if (type.Enum is { } values)
        {
            w.WriteStartArray("enum");
            foreach (var v in values)
            {
                w.WriteStringValue(v);
            }

            w.WriteEndArray();
        }
    }

    private void WriteTypeObject(TypeSchema type)
    {
        w.WriteStartObject();
        WriteTypeBody(type);
        w.WriteEndObject();
    }

    private void WriteRef(string definition)
    {
        w.WriteStartObject();
        w.WriteString("$ref", RefPrefix + definition);
        w.WriteEndObject();
    }

    private void WriteOptional(string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private void WriteOptional(string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    private void WriteGroupVersionKind(GroupVersionKind gvk)
    {
        w.WriteStartObject();
        w.WriteString("group", gvk.Group);
        w.WriteString("kind", gvk.Kind);
        w.WriteString("version", gvk.Version);
        w.WriteEndObject();
    }

    /// <summary>The paths of one resource (collection, object, and object-shaped subresources).</summary>
    public static IEnumerable<OpenApiPath> PathsOf(ApiResource r, IReadOnlyDictionary<string, TypeSchema> definitions)
    {
        var prefix = r.Group.Length == 0 ? "/api/v1" : $"/apis/{r.Group}/{r.Version}";
        var collection = r.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{r.Resource}" : $"{prefix}/{r.Resource}";
        var item = collection + "/{name}";
        var kind = new GroupVersionKind(r.Group, r.Version, r.Kind);
        var package = r.DefinitionName[..r.DefinitionName.LastIndexOf('.')];
        var listDefinition = $"{package}.{r.ListKind}";
        var verbs = r.Verbs.ToHashSet(StringComparer.Ordinal);

        var collectionOps = new List<OpenApiOperation>();
        if (verbs.Contains("list") && definitions.ContainsKey(listDefinition))
        {
            collectionOps.Add(new OpenApiOperation("get", "list", kind, null, listDefinition));
        }

        if (verbs.Contains("create"))
        {
            collectionOps.Add(new OpenApiOperation("post", "post", kind, r.DefinitionName, r.DefinitionName));
        }

        if (verbs.Contains("deletecollection"))
        {
            collectionOps.Add(new OpenApiOperation("delete", "deletecollection", kind, DeleteOptionsDefinition, StatusDefinition));
        }

        if (collectionOps.Count > 0)
        {
            yield return new OpenApiPath(collection, r.Namespaced, false, collectionOps);
        }

        var itemOps = ObjectOperations(verbs, kind, r.DefinitionName).ToList();
        if (verbs.Contains("delete"))
        {
            itemOps.Add(new OpenApiOperation("delete", "delete", kind, DeleteOptionsDefinition, StatusDefinition));
        }

        if (itemOps.Count > 0)
        {
            yield return new OpenApiPath(item, r.Namespaced, true, itemOps);
        }

        foreach (var (sub, subVerbs) in r.Subresources)
        {
            if (ConnectSubresources.Contains(sub) || !r.SubresourceKinds.TryGetValue(sub, out var subKind))
            {
                continue;
            }

            var subDefinition = definitions.Values.FirstOrDefault(d => d.GroupVersionKinds.Count == 1 && d.GroupVersionKinds[0] == subKind)?.Name;
            if (subDefinition is null)
            {
                continue;
            }

            var ops = ObjectOperations(subVerbs.ToHashSet(StringComparer.Ordinal), subKind, subDefinition).ToList();
            if (subVerbs.Contains("create"))
            {
                ops.Add(new OpenApiOperation("post", "post", subKind, subDefinition, subDefinition));
            }

            if (ops.Count > 0)
            {
                yield return new OpenApiPath($"{item}/{sub}", r.Namespaced, true, ops);
            }
        }
    }

    private static IEnumerable<OpenApiOperation> ObjectOperations(HashSet<string> verbs, GroupVersionKind kind, string definition)
    {
        if (verbs.Contains("get"))
        {
            yield return new OpenApiOperation("get", "get", kind, null, definition);
        }

        if (verbs.Contains("update"))
        {
            yield return new OpenApiOperation("put", "put", kind, definition, definition);
        }

        if (verbs.Contains("patch"))
        {
            yield return new OpenApiOperation("patch", "patch", kind, PatchDefinition, definition);
        }
    }

    public void WritePath(OpenApiPath path)
    {
        w.WritePropertyName(path.Path);
        w.WriteStartObject();
        foreach (var op in path.Operations.OrderBy(o => o.Method, StringComparer.Ordinal))
        {
            w.WritePropertyName(op.Method);
            WriteOperation(op);
        }

        w.WriteStartArray("parameters");
        if (path.HasName)
        {
            WriteParameter("path", "name", "string", required: true);
        }

        if (path.Namespaced)
        {
            WriteParameter("path", "namespace", "string", required: true);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void WriteOperation(OpenApiOperation op)
    {
        w.WriteStartObject();
        var isPatch = op.Method == "patch";
        if (!v3)
        {
            w.WriteStartArray("consumes");
            foreach (var type in isPatch ? PatchTypes : ["*/*"])
            {
                w.WriteStringValue(type);
            }

            w.WriteEndArray();
        }

        w.WriteStartArray("parameters");
        if (!v3 && op.Body is not null)
        {
            w.WriteStartObject();
            w.WriteString("in", "body");
            w.WriteString("name", "body");
            w.WriteBoolean("required", op.Method != "delete");
            w.WritePropertyName("schema");
            WriteRef(op.Body);
            w.WriteEndObject();
        }

        if (op.Method is "post" or "put" or "patch" or "delete")
        {
            WriteParameter("query", "dryRun", "string", required: false);
        }

        if (op.Method is "post" or "put" or "patch")
        {
            WriteParameter("query", "fieldManager", "string", required: false);
            WriteParameter("query", "fieldValidation", "string", required: false);
        }

        if (isPatch)
        {
            WriteParameter("query", "force", "boolean", required: false);
        }

        if (op.Method == "delete")
        {
            WriteParameter("query", "gracePeriodSeconds", "integer", required: false);
            WriteParameter("query", "propagationPolicy", "string", required: false);
        }

        if (op.Action == "list")
        {
            foreach (var name in new[] { "continue", "fieldSelector", "labelSelector", "resourceVersion", "resourceVersionMatch" })
            {
                WriteParameter("query", name, "string", required: false);
            }

            WriteParameter("query", "allowWatchBookmarks", "boolean", required: false);
            WriteParameter("query", "limit", "integer", required: false);
            WriteParameter("query", "sendInitialEvents", "boolean", required: false);
            WriteParameter("query", "timeoutSeconds", "integer", required: false);
            WriteParameter("query", "watch", "boolean", required: false);
        }

        w.WriteEndArray();

        if (!v3)
        {
            w.WriteStartArray("produces");
            w.WriteStringValue("application/json");
            w.WriteStringValue("application/yaml");
            w.WriteEndArray();
        }
        else if (op.Body is not null)
        {
            w.WriteStartObject("requestBody");
            w.WriteStartObject("content");
            foreach (var type in isPatch ? PatchTypes : ["application/json"])
            {
                w.WriteStartObject(type);
                w.WritePropertyName("schema");
                WriteRef(op.Body);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteBoolean("required", op.Method != "delete");
            w.WriteEndObject();
        }

        w.WriteStartObject("responses");
        WriteResponse("200", "OK", op.Response);
        if (op.Method is "post" or "put")
        {
            WriteResponse("201", "Created", op.Response);
        }

        if (op.Method is "post" or "delete")
        {
            WriteResponse("202", "Accepted", op.Response);
        }

        w.WriteStartObject("401");
        w.WriteString("description", "Unauthorized");
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteString("x-kubernetes-action", op.Action);
        w.WritePropertyName("x-kubernetes-group-version-kind");
        WriteGroupVersionKind(op.Kind);
        w.WriteEndObject();
    }

    private void WriteResponse(string code, string description, string definition)
    {
        w.WriteStartObject(code);
        if (v3)
        {
            w.WriteStartObject("content");
            foreach (var type in new[] { "application/json", "application/yaml" })
            {
                w.WriteStartObject(type);
                w.WritePropertyName("schema");
                WriteRef(definition);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteString("description", description);
        }
        else
        {
            w.WriteString("description", description);
            w.WritePropertyName("schema");
            WriteRef(definition);
        }

        w.WriteEndObject();
    }

    private void WriteParameter(string location, string name, string type, bool required)
    {
        w.WriteStartObject();
        w.WriteString("in", location);
        w.WriteString("name", name);
        if (required)
        {
            w.WriteBoolean("required", true);
        }

        if (v3)
        {
            w.WriteStartObject("schema");
            w.WriteString("type", type);
            w.WriteBoolean("uniqueItems", true);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("type", type);
            w.WriteBoolean("uniqueItems", true);
        }

        w.WriteEndObject();
    }
}

/// <summary>One operation of a path: HTTP method, Kubernetes action, kind, request and response definitions.</summary>
internal sealed record OpenApiOperation(string Method, string Action, GroupVersionKind Kind, string? Body, string Response);

internal sealed record OpenApiPath(string Path, bool Namespaced, bool HasName, IReadOnlyList<OpenApiOperation> Operations);
