using System.Text.Json;

namespace Kubesharp.ApiServer.Admission.Matching;

/// <summary>
/// One rule of a webhook (RuleWithOperations) or of a policy's match resources (NamedRuleWithOperations):
/// operations, groups, versions, resources (with subresources), scope and, for policies, resource names.
/// </summary>
internal sealed record AdmissionRule(
    IReadOnlyList<string> Operations,
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> ApiVersions,
    IReadOnlyList<string> Resources,
    string Scope,
    IReadOnlyList<string> ResourceNames)
{
    public static AdmissionRule Parse(JsonElement rule) => new(
        Strings(rule, "operations"),
        Strings(rule, "apiGroups"),
        Strings(rule, "apiVersions"),
        Strings(rule, "resources"),
        rule.TryGetProperty("scope", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "*",
        Strings(rule, "resourceNames"));

    public static IReadOnlyList<AdmissionRule> ParseList(JsonElement parent, string field) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(field, out var r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(Parse).ToArray()
            : [];

    public bool MatchesOperation(string operation) => Operations.Any(o => o == "*" || o == operation);

    public bool MatchesGroup(string group) => ApiGroups.Any(g => g == "*" || g == group);

    public bool MatchesVersion(string version) => ApiVersions.Any(v => v == "*" || v == version);

    /// <summary>An empty resourceNames list names every object.</summary>
    public bool MatchesName(string name) => ResourceNames.Count == 0 || ResourceNames.Contains(name, StringComparer.Ordinal);

    public bool MatchesScope(bool namespaced) => Scope switch
    {
        "Cluster" => !namespaced,
        "Namespaced" => namespaced,
        _ => true,
    };

    /// <summary>"pods" names the resource alone, "pods/status" a subresource, "pods/*" and "*/status" wildcards, "*/*" everything.</summary>
    public bool MatchesResource(string resource, string subresource)
    {
        foreach (var entry in Resources)
        {
            var slash = entry.IndexOf('/', StringComparison.Ordinal);
            var name = slash < 0 ? entry : entry[..slash];
            var sub = slash < 0 ? string.Empty : entry[(slash + 1)..];
            if ((name == "*" || name == resource) && (sub == "*" || sub == subresource))
            {
                return true;
            }
        }

        return false;
    }

    public static IReadOnlyList<string> Strings(JsonElement parent, string field) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(field, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
            : [];
}
