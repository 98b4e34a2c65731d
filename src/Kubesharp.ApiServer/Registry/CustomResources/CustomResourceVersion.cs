using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Api.OpenApi;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Printing;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// The definition of one served version of a custom resource, built from its CustomResourceDefinition: names and
/// scope for discovery, the version's schema for validation, pruning and defaulting, printer columns, selectable
/// fields, status and scale subresources. Objects are stored in the storage version; another version is the same
/// object with its apiVersion rewritten (conversion None) or what the CRD's conversion webhook makes of it
/// (<see cref="CustomResourceConversion"/>).
/// </summary>
internal sealed class CustomResourceVersion : ResourceDefinition
{
    private readonly CustomResourceSchema? _schema;
    private readonly CustomResourceConversion _conversion;
    private readonly bool _converts;

    private CustomResourceVersion(
        ApiResource resource,
        CustomResourceStrategy strategy,
        CustomResourceSchema? schema,
        JsonObject? openApiSchema,
        IReadOnlyCollection<string> selectableFields,
        ResourceTable table,
        TimeProvider timeProvider,
        ScalePaths? scale,
        CustomResourceConversion conversion,
        bool converts)
        : base(resource, strategy, schema?.ToTypeSchema(root: true), selectableFields, table, timeProvider)
    {
        _schema = schema;
        _conversion = conversion;
        _converts = converts;
        Scale = scale;
        OpenApiKind = new CustomResourceKind(resource, openApiSchema);
    }

    public override bool SupportsStrategicMerge => false;

    public override ScalePaths? Scale { get; }

    public override bool Converts => _converts;

    /// <summary>What this version contributes to its group-version's OpenAPI document.</summary>
    public CustomResourceKind OpenApiKind { get; }

    /// <summary>The definitions of every served version of a CustomResourceDefinition, preferred version first.</summary>
    public static IReadOnlyList<ResourceDefinition> FromDefinition(JsonObject crd, RegistryContext context, Admission.Webhooks.WebhookClient webhooks)
    {
        var spec = crd["spec"] as JsonObject ?? [];
        var names = spec["names"] as JsonObject ?? [];
        var group = (string?)spec["group"] ?? string.Empty;
        var plural = (string?)names["plural"] ?? string.Empty;
        var kind = (string?)names["kind"] ?? string.Empty;
        var versions = (spec["versions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var storage = versions.FirstOrDefault(v => (bool?)v["storage"] == true) is { } stored ? (string?)stored["name"] ?? string.Empty : string.Empty;
        var served = versions.Where(v => (bool?)v["served"] == true).ToList();
        var schemas = new Dictionary<string, CustomResourceSchema?>(StringComparer.Ordinal);
        foreach (var version in versions)
        {
            schemas[(string?)version["name"] ?? string.Empty] = version["schema"]?["openAPIV3Schema"] is JsonObject s ? CustomResourceSchema.Parse(s) : null;
        }

        var conversion = CustomResourceConversion.FromSpec(spec, storage, schemas, webhooks);
        var definitions = new List<ResourceDefinition>();
        foreach (var version in served.OrderBy(v => (string?)v["name"] ?? string.Empty, VersionPriority.Ordering))
        {
            var name = (string?)version["name"] ?? string.Empty;
            var subresources = version["subresources"] as JsonObject;
            var subs = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            var subKinds = new Dictionary<string, GroupVersionKind>(StringComparer.Ordinal);
            if (subresources?["status"] is JsonObject)
            {
                subs["status"] = ["get", "patch", "update"];
                subKinds["status"] = new GroupVersionKind(group, name, kind);
            }

            ScalePaths? scale = null;
            if (subresources?["scale"] is JsonObject scaleNode)
            {
                subs["scale"] = ["get", "patch", "update"];
                subKinds["scale"] = new GroupVersionKind("autoscaling", "v1", "Scale");
                scale = new ScalePaths(
                    ((string?)scaleNode["specReplicasPath"] ?? ".spec.replicas").TrimStart('.'),
                    ((string?)scaleNode["statusReplicasPath"] ?? ".status.replicas").TrimStart('.'),
                    ((string?)scaleNode["labelSelectorPath"])?.TrimStart('.'));
            }

            var resource = new ApiResource
            {
                Group = group,
                Version = name,
                Resource = plural,
                Kind = kind,
                ListKind = (string?)names["listKind"] is { Length: > 0 } listKind ? listKind : kind + "List",
                SingularName = (string?)names["singular"] is { Length: > 0 } singular ? singular : kind.ToLowerInvariant(),
                Namespaced = (string?)spec["scope"] != "Cluster",
                Verbs = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
                ShortNames = Strings(names["shortNames"]),
                Categories = Strings(names["categories"]),
                Subresources = subs,
                SubresourceKinds = subKinds,
                DefinitionName = CustomResourceDocuments.DefinitionName(group, name, kind),
            };
            var openApiSchema = version["schema"]?["openAPIV3Schema"] as JsonObject;
            var schema = schemas[name];
            var table = Printing(version);
            var selectable = (version["selectableFields"] as JsonArray)?.OfType<JsonObject>()
                .Select(f => ((string?)f["jsonPath"])?.TrimStart('.')).OfType<string>().ToList() ?? [];
            definitions.Add(new CustomResourceVersion(
                resource,
                new CustomResourceStrategy(resource, schema),
                schema,
                openApiSchema,
                selectable,
                table,
                context.TimeProvider,
                scale,
                conversion,
                served.Count > 1 || storage != name));
        }

        return definitions;
    }

    public override List<string> UnknownFields(JsonObject body, JsonElement? parsed, bool remove) => _schema?.Prune(body, remove) ?? [];

    public override async ValueTask<CachedObject> PresentAsync(CachedObject stored, CancellationToken cancellationToken)
    {
        if (!_conversion.ByWebhook || InThisVersion(stored))
        {
            return Present(stored);
        }

        var converted = await _conversion.ConvertAsync([stored.ToNode()], Resource.ApiVersion, list: false, cancellationToken).ConfigureAwait(false);
        return CachedObject.FromNode(stored.Key, converted[0], stored.Revision);
    }

    public override async ValueTask<List<CachedObject>> PresentAllAsync(List<CachedObject> stored, CancellationToken cancellationToken)
    {
        if (!_converts || !_conversion.ByWebhook)
        {
            return await base.PresentAllAsync(stored, cancellationToken).ConfigureAwait(false);
        }

        // One review for every item not yet in this version, as upstream converts a list.
        var pending = stored.Where(o => !InThisVersion(o)).ToList();
        if (pending.Count == 0)
        {
            return stored;
        }

        var converted = await _conversion.ConvertAsync(pending.ConvertAll(o => o.ToNode()), Resource.ApiVersion, list: true, cancellationToken).ConfigureAwait(false);
        var result = new List<CachedObject>(stored.Count);
        var next = 0;
        foreach (var obj in stored)
        {
            if (InThisVersion(obj))
            {
                result.Add(obj);
                continue;
            }

            result.Add(CachedObject.FromNode(obj.Key, converted[next++], obj.Revision));
        }

        return result;
    }

    public override async ValueTask<JsonObject> ToStorageAsync(JsonObject obj, CancellationToken cancellationToken)
    {
        if (!_conversion.ByWebhook || (string?)obj["apiVersion"] == _conversion.StorageApiVersion)
        {
            return ToStorage(obj);
        }

        return (await _conversion.ConvertAsync([obj], _conversion.StorageApiVersion, list: false, cancellationToken).ConfigureAwait(false))[0];
    }

    protected override CachedObject Present(CachedObject stored)
    {
        if (!_converts || InThisVersion(stored))
        {
            return stored;
        }

        var node = stored.ToNode();
        node["apiVersion"] = Resource.ApiVersion;
        return CachedObject.FromNode(stored.Key, node, stored.Revision);
    }

    protected override JsonObject ToStorage(JsonObject obj)
    {
        if ((string?)obj["apiVersion"] != _conversion.StorageApiVersion)
        {
            obj = obj.DeepClone().AsObject();
            obj["apiVersion"] = _conversion.StorageApiVersion;
        }

        return obj;
    }

    private bool InThisVersion(CachedObject obj) =>
        obj.Root.TryGetProperty("apiVersion", out var apiVersion) && apiVersion.ValueKind == JsonValueKind.String && apiVersion.ValueEquals(Resource.ApiVersion);

    /// <summary>Name, the version's additionalPrinterColumns (Age when it has none), and how a row's cells are read.</summary>
    private static ResourceTable Printing(JsonObject version)
    {
        var declared = (version["additionalPrinterColumns"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var columns = new List<TableColumn> { ResourceTable.NameColumn };
        var paths = new List<(JsonPathExpression? Path, string Type)>();
        if (declared.Count == 0)
        {
            columns.Add(new TableColumn("Age", "date", string.Empty, "How long ago the object was created."));
            _ = JsonPathExpression.TryParse(".metadata.creationTimestamp", out var age, out _);
            paths.Add((age, "date"));
        }

        foreach (var column in declared)
        {
            var type = (string?)column["type"] ?? "string";
            columns.Add(new TableColumn((string?)column["name"] ?? string.Empty, type, (string?)column["format"] ?? string.Empty,
                (string?)column["description"] ?? string.Empty, (int?)column["priority"] ?? 0));
            _ = JsonPathExpression.TryParse((string?)column["jsonPath"] ?? string.Empty, out var path, out _);
            paths.Add((path, type));
        }

        JsonArray Cells(PrintedObject printed)
        {
            var obj = printed.Root;
            var cells = new JsonArray();
            cells.Add((JsonNode?)(obj.TryGetProperty("metadata", out var meta) && meta.TryGetProperty("name", out var n) ? n.GetString() : string.Empty));
            foreach (var (path, type) in paths)
            {
                var values = path?.Evaluate(obj) ?? [];
                if (values.Count == 0 || values[0].ValueKind == JsonValueKind.Null)
                {
                    cells.Add(null);
                    continue;
                }

                if (values.Count > 1)
                {
                    cells.Add((JsonNode?)string.Join(",", values.Select(JsonPathExpression.Text)));
                    continue;
                }

                var value = values[0];
                JsonNode? cell = type switch
                {
                    "date" when value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) =>
                        JsonValue.Create(HumanDuration.Format(printed.Now - time)),
                    "integer" when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) => JsonValue.Create(number),
                    "number" when value.ValueKind == JsonValueKind.Number => JsonValue.Create(value.GetDouble()),
                    "boolean" when value.ValueKind is JsonValueKind.True or JsonValueKind.False => JsonValue.Create(value.GetBoolean()),
                    _ when value.ValueKind is JsonValueKind.Object or JsonValueKind.Array => JsonValue.Create(value.GetRawText()),
                    _ => JsonValue.Create(JsonPathExpression.Text(value)),
                };
                cells.Add(cell);
            }

            return cells;
        }

        return new ResourceTable(columns, Cells);
    }

    private static string[] Strings(JsonNode? node) =>
        (node as JsonArray)?.Select(n => n?.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null).OfType<string>().ToArray() ?? [];
}

/// <summary>Kubernetes version priority: GA before beta before alpha, higher numbers first, other names last by name.</summary>
internal static class VersionPriority
{
    public static IComparer<string> Ordering { get; } = System.Collections.Generic.Comparer<string>.Create(Compare);

    private static int Compare(string a, string b)
    {
        var (ka, ma, sa, na) = Parse(a);
        var (kb, mb, sb, nb) = Parse(b);
        if (ka != kb)
        {
            return ka.CompareTo(kb);
        }

        if (ka == 1)
        {
            return string.CompareOrdinal(a, b);
        }

        return sa != sb ? sb.CompareTo(sa) : ma != mb ? mb.CompareTo(ma) : nb.CompareTo(na);
    }

    private static (int Known, int Major, int Stage, int Minor) Parse(string v)
    {
        var match = System.Text.RegularExpressions.Regex.Match(v, "^v([0-9]+)(?:(alpha|beta)([0-9]+))?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        if (!match.Success)
        {
            return (1, 0, 0, 0);
        }

        var major = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var stage = match.Groups[2].Value switch { "alpha" => 0, "beta" => 1, _ => 2 };
        var minor = match.Groups[3].Success ? int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
        return (0, major, stage, minor);
    }
}
