using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kubesharp.Api.Generator;

/// <summary>
/// Derives the REST resources of every GA group-version from the spec's paths (scope, verbs from the
/// operations present, subresources and their kinds) and writes them as C#.
/// </summary>
internal sealed partial class CatalogEmitter(SpecDefinitions definitions, JsonElement paths, GeneratedOutput output)
{
    private sealed class Resource
    {
        public required string Group { get; init; }

        public required string Version { get; init; }

        public required string Name { get; init; }

        public bool Namespaced { get; set; }

        public GroupVersionKindFact? Kind { get; set; }

        public string? ListKind { get; set; }

        public SortedSet<string> Verbs { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, SortedSet<string>> Subresources { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, GroupVersionKindFact> SubresourceKinds { get; } = new(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^/(?:api/(?<version>v1)|apis/(?<group>[^/]+)/(?<version>v\d+))/(?<rest>.+)$")]
    private static partial Regex GroupVersionPath();

    public void Emit()
    {
        var resources = new SortedDictionary<(string Group, string Version, string Resource), Resource>();
        foreach (var path in paths.EnumerateObject())
        {
            var match = GroupVersionPath().Match(path.Name);
            if (!match.Success)
            {
                continue;
            }

            var group = match.Groups["group"].Success ? match.Groups["group"].Value : "";
            var version = match.Groups["version"].Value;
            var segments = new List<string>(match.Groups["rest"].Value.TrimEnd('/').Split('/'));
            if (segments[0] == "watch")
            {
                segments.RemoveAt(0);
            }

            var namespaced = false;
            if (segments.Count >= 3 && segments[0] == "namespaces" && segments[1] == "{namespace}")
            {
                namespaced = true;
                segments.RemoveRange(0, 2);
            }

            var key = (group, version, segments[0]);
            if (!resources.TryGetValue(key, out var resource))
            {
                resource = new Resource { Group = group, Version = version, Name = segments[0] };
                resources.Add(key, resource);
            }

            resource.Namespaced |= namespaced;
            var subresource = segments.Count >= 3 ? segments[2] : null;
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (operation.Name == "parameters")
                {
                    continue;
                }

                var verb = Verb(operation.Name, operation.Value);
                if (verb is null)
                {
                    continue;
                }

                var gvk = operation.Value.TryGetProperty("x-kubernetes-group-version-kind", out var g)
                    ? new GroupVersionKindFact(g.GetProperty("group").GetString()!, g.GetProperty("version").GetString()!, g.GetProperty("kind").GetString()!)
                    : null;
                if (subresource is not null)
                {
                    if (!resource.Subresources.TryGetValue(subresource, out var verbs))
                    {
                        resource.Subresources.Add(subresource, verbs = new SortedSet<string>(StringComparer.Ordinal));
                    }

                    verbs.Add(verb);
                    if (gvk is not null)
                    {
                        resource.SubresourceKinds.TryAdd(subresource, gvk);
                    }

                    continue;
                }

                resource.Verbs.Add(verb);
                resource.Kind ??= gvk;
                if (verb == "list" && operation.Value.GetProperty("responses").GetProperty("200").GetProperty("schema").TryGetProperty("$ref", out _))
                {
                    var listSchema = operation.Value.GetProperty("responses").GetProperty("200").GetProperty("schema");
                    resource.ListKind = definitions[SpecDefinitions.RefName(listSchema)].TypeName;
                }
            }
        }

        var sb = new StringBuilder();
        sb.Append(TypeEmitter.Header).Append("#nullable enable\n\n");
        sb.Append("namespace Kubesharp.Api;\n\n");
        sb.Append("public static partial class ApiCatalog\n{\n");
        sb.Append("    private static global::Kubesharp.ApiMachinery.Discovery.ApiResource[] SpecResources() =>\n    [\n");
        foreach (var r in resources.Values.Where(r => r.Kind is not null && r.Verbs.Count > 0))
        {
            var kind = r.Kind!;
            var definition = definitions.All.Values.Single(d => d.GroupVersionKinds.Count == 1 && d.GroupVersionKinds[0] == kind);
            sb.Append("        new()\n        {\n");
            sb.Append(CultureInfo.InvariantCulture, $"            Group = \"{r.Group}\",\n");
            sb.Append(CultureInfo.InvariantCulture, $"            Version = \"{r.Version}\",\n");
            sb.Append(CultureInfo.InvariantCulture, $"            Resource = \"{r.Name}\",\n");
            sb.Append(CultureInfo.InvariantCulture, $"            Kind = \"{kind.Kind}\",\n");
            sb.Append(CultureInfo.InvariantCulture, $"            ListKind = \"{r.ListKind ?? kind.Kind + "List"}\",\n");
            sb.Append(CultureInfo.InvariantCulture, $"            SingularName = \"{kind.Kind.ToLowerInvariant()}\",\n");
            sb.Append(CultureInfo.InvariantCulture, $"            Namespaced = {(r.Namespaced ? "true" : "false")},\n");
            sb.Append(CultureInfo.InvariantCulture, $"            Verbs = [{Strings(r.Verbs)}],\n");
            if (r.Subresources.Count > 0)
            {
                sb.Append("            Subresources = new global::System.Collections.Generic.Dictionary<string, global::System.Collections.Generic.IReadOnlyList<string>>\n            {\n");
                foreach (var (name, verbs) in r.Subresources)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"                [\"{name}\"] = [{Strings(verbs)}],\n");
                }

                sb.Append("            },\n");
                sb.Append("            SubresourceKinds = new global::System.Collections.Generic.Dictionary<string, global::Kubesharp.ApiMachinery.Schema.GroupVersionKind>\n            {\n");
                foreach (var (name, gvk) in r.SubresourceKinds)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"                [\"{name}\"] = new(\"{gvk.Group}\", \"{gvk.Version}\", \"{gvk.Kind}\"),\n");
                }

                sb.Append("            },\n");
            }

            sb.Append(CultureInfo.InvariantCulture, $"            DefinitionName = \"{definition.Name}\",\n");
            sb.Append("        },\n");
        }

        sb.Append("    ];\n}\n");
        output.Add("src/Kubesharp.Api/ApiCatalog.g.cs", sb.ToString());
    }

    private static string Strings(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"\"{v}\""));

    /// <summary>The discovery verb of an operation; connect operations take theirs from the HTTP method.</summary>
    private static string? Verb(string method, JsonElement operation)
    {
        var action = operation.TryGetProperty("x-kubernetes-action", out var a) ? a.GetString() : null;
        return action switch
        {
            "get" => "get",
            "list" => "list",
            "watch" or "watchlist" => "watch",
            "post" => "create",
            "put" => "update",
            "patch" => "patch",
            "delete" => "delete",
            "deletecollection" => "deletecollection",
            "connect" => method switch
            {
                "get" => "get",
                "post" => "create",
                "put" => "update",
                "patch" => "patch",
                "delete" => "delete",
                _ => null,
            },
            _ => null,
        };
    }
}
