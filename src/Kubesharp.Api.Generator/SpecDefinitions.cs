using System.Text.Json;

namespace Kubesharp.Api.Generator;

/// <summary>How a definition is represented in C#.</summary>
internal enum DefinitionMapping
{
    /// <summary>A generated record.</summary>
    Record,

    /// <summary>A hand-written value type (Quantity, IntOrString).</summary>
    ValueType,

    /// <summary>A timestamp held as DateTimeOffset with a converter (Time, MicroTime).</summary>
    Timestamp,

    /// <summary>Arbitrary JSON held as JsonNode (RawExtension, JSON, FieldsV1, …).</summary>
    Json,
}

internal sealed record GroupVersionKindFact(string Group, string Version, string Kind)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
}

/// <summary>One definition of the spec with its C# identity.</summary>
internal sealed class Definition
{
    public required string Name { get; init; }

    public required JsonElement Schema { get; init; }

    public required DefinitionMapping Mapping { get; init; }

    /// <summary>C# namespace, e.g. Kubesharp.Api.Core.V1.</summary>
    public required string Namespace { get; init; }

    public required string TypeName { get; init; }

    /// <summary>Repository-relative folder holding the generated file.</summary>
    public required string Folder { get; init; }

    /// <summary>Short prefix naming the group-version (CoreV1), used where type names must be unique.</summary>
    public required string Prefix { get; init; }

    public required IReadOnlyList<GroupVersionKindFact> GroupVersionKinds { get; init; }

    /// <summary>The C# type as referenced from generated code (without nullable annotation).</summary>
    public required string CSharpReference { get; init; }

    public string FullName => $"{Namespace}.{TypeName}";

    public IEnumerable<KeyValuePair<string, JsonElement>> Properties =>
        Schema.TryGetProperty("properties", out var p) ? p.EnumerateObject().Select(o => KeyValuePair.Create(o.Name, o.Value)) : [];
}

internal sealed class SpecDefinitions
{
    private const string Timestamp = "global::System.DateTimeOffset";
    private const string JsonNode = "global::System.Text.Json.Nodes.JsonNode";

    // Definitions whose JSON is arbitrary: kept as a JSON tree rather than a typed record.
    private static readonly HashSet<string> JsonDefinitions = new(StringComparer.Ordinal)
    {
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
    };

    private static readonly Dictionary<string, string> GroupNames = new(StringComparer.Ordinal)
    {
        ["admissionregistration"] = "AdmissionRegistration",
        ["apiserverinternal"] = "ApiServerInternal",
        ["flowcontrol"] = "FlowControl",
        ["storagemigration"] = "StorageMigration",
        ["apiextensions"] = "ApiExtensions",
        ["apiregistration"] = "ApiRegistration",
    };

    private SpecDefinitions(SortedDictionary<string, Definition> all) => All = all;

    public SortedDictionary<string, Definition> All { get; }

    public IEnumerable<Definition> Records => All.Values.Where(d => d.Mapping == DefinitionMapping.Record);

    public Definition this[string name] => All[name];

    public static SpecDefinitions Load(JsonElement spec)
    {
        var all = new SortedDictionary<string, Definition>(StringComparer.Ordinal);
        foreach (var property in spec.GetProperty("definitions").EnumerateObject())
        {
            all.Add(property.Name, Describe(property.Name, property.Value));
        }

        return new SpecDefinitions(all);
    }

    public static string RefName(JsonElement schema) =>
        schema.TryGetProperty("$ref", out var r) ? r.GetString()!["#/definitions/".Length..] : throw new InvalidOperationException("no $ref");

    private static Definition Describe(string name, JsonElement schema)
    {
        var lastDot = name.LastIndexOf('.');
        var package = name[..lastDot];
        var typeName = name[(lastDot + 1)..];
        var gvks = new List<GroupVersionKindFact>();
        if (schema.TryGetProperty("x-kubernetes-group-version-kind", out var gvkArray))
        {
            foreach (var g in gvkArray.EnumerateArray())
            {
                gvks.Add(new GroupVersionKindFact(g.GetProperty("group").GetString()!, g.GetProperty("version").GetString()!, g.GetProperty("kind").GetString()!));
            }
        }

        var mapping = name switch
        {
            "io.k8s.apimachinery.pkg.api.resource.Quantity" or "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => DefinitionMapping.ValueType,
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time" or "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime" => DefinitionMapping.Timestamp,
            _ when JsonDefinitions.Contains(name) => DefinitionMapping.Json,
            _ => DefinitionMapping.Record,
        };

        string project;
        string[] segments;
        if (package.StartsWith("io.k8s.api.", StringComparison.Ordinal))
        {
            var parts = package["io.k8s.api.".Length..].Split('.');
            project = "Kubesharp.Api";
            segments = [GroupName(parts[0]), Pascal(parts[1])];
        }
        else if (package == "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1")
        {
            project = "Kubesharp.Api";
            segments = ["ApiExtensions", "V1"];
        }
        else if (package == "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1")
        {
            project = "Kubesharp.Api";
            segments = ["ApiRegistration", "V1"];
        }
        else if (package == "io.k8s.apimachinery.pkg.apis.meta.v1")
        {
            project = "Kubesharp.ApiMachinery";
            segments = ["Meta", "V1"];
        }
        else if (package == "io.k8s.apimachinery.pkg.version")
        {
            project = "Kubesharp.Api";
            segments = ["Version"];
        }
        else if (mapping != DefinitionMapping.Record)
        {
            project = "Kubesharp.ApiMachinery";
            segments = [];
        }
        else
        {
            throw new InvalidOperationException($"no namespace mapping for {name}");
        }

        var ns = string.Join('.', new[] { project }.Concat(segments));
        var reference = mapping switch
        {
            DefinitionMapping.ValueType => $"global::Kubesharp.ApiMachinery.{typeName}",
            DefinitionMapping.Timestamp => Timestamp,
            DefinitionMapping.Json => JsonNode,
            _ => $"global::{ns}.{typeName}",
        };

        return new Definition
        {
            Name = name,
            Schema = schema,
            Mapping = mapping,
            Namespace = ns,
            TypeName = typeName,
            Folder = string.Join('/', new[] { "src", project }.Concat(segments)),
            Prefix = string.Concat(segments),
            GroupVersionKinds = gvks,
            CSharpReference = reference,
        };
    }

    private static string GroupName(string group) => GroupNames.TryGetValue(group, out var n) ? n : Pascal(group);

    /// <summary>v1beta1 → V1Beta1, core → Core.</summary>
    public static string Pascal(string s)
    {
        var chars = s.ToCharArray();
        chars[0] = char.ToUpperInvariant(chars[0]);
        for (var i = 1; i < chars.Length; i++)
        {
            if (char.IsDigit(chars[i - 1]) && char.IsLetter(chars[i]))
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    /// <summary>JSON property name → C# property name (x-kubernetes-list-type → XKubernetesListType, $ref → Ref).</summary>
    public static string PropertyName(string jsonName)
    {
        var words = jsonName.Split(['-', '$', '.', '_'], StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
    }
}
