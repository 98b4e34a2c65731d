using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.FlowControl;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// One RBAC PolicyRule, read once from its stored JSON: the matching of upstream's rbac rule helpers (verbs,
/// apiGroups, resources with "pods/log" and "*/scale" subresource forms, resourceNames, nonResourceURLs with a
/// trailing "*") and the coverage test escalation checks use.
/// </summary>
internal sealed record PolicyRuleMatcher(
    IReadOnlyList<string> Verbs,
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string> ResourceNames,
    IReadOnlyList<string> NonResourceUrls)
{
    private const string All = "*";

    public static PolicyRuleMatcher Parse(JsonElement rule) => new(
        Strings(rule, "verbs"), Strings(rule, "apiGroups"), Strings(rule, "resources"), Strings(rule, "resourceNames"), Strings(rule, "nonResourceURLs"));

    public static List<PolicyRuleMatcher> ParseRules(JsonElement owner)
    {
        var rules = new List<PolicyRuleMatcher>();
        if (owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty("rules", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var rule in array.EnumerateArray())
            {
                if (rule.ValueKind == JsonValueKind.Object)
                {
                    rules.Add(Parse(rule));
                }
            }
        }

        return rules;
    }

    public static List<PolicyRuleMatcher> ParseRules(JsonObject owner)
    {
        using var document = JsonDocument.Parse(owner.ToJsonString());
        return ParseRules(document.RootElement);
    }

    public bool Allows(RequestInfo request) => request.IsResourceRequest
        ? Contains(Verbs, request.Verb) && Contains(ApiGroups, request.ApiGroup) && ResourceMatches(request.Resource, request.Subresource) && NameMatches(request.Name)
        : Contains(Verbs, request.Verb) && UrlMatches(request.Path);

    private bool ResourceMatches(string resource, string subresource)
    {
        foreach (var ruleResource in Resources)
        {
            if (ruleResource == All || IsResource(ruleResource, resource, subresource))
            {
                return true;
            }

            // "*/scale" grants the scale subresource of every resource.
            if (subresource.Length > 0 && ruleResource.Length == subresource.Length + 2 && ruleResource.StartsWith("*/", StringComparison.Ordinal) && ruleResource.EndsWith(subresource, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="ruleResource"/> is "RESOURCE" or "RESOURCE/SUBRESOURCE", compared in place.</summary>
    private static bool IsResource(string ruleResource, string resource, string subresource) => subresource.Length == 0
        ? ruleResource == resource
        : ruleResource.Length == resource.Length + 1 + subresource.Length &&
          ruleResource.StartsWith(resource, StringComparison.Ordinal) &&
          ruleResource[resource.Length] == '/' &&
          ruleResource.EndsWith(subresource, StringComparison.Ordinal);

    private bool NameMatches(string name) => ResourceNames.Count == 0 || ResourceNames.Contains(name, StringComparer.Ordinal);

    private bool UrlMatches(string path)
    {
        foreach (var url in NonResourceUrls)
        {
            if (url == All || url == path || (url.EndsWith('*') && path.StartsWith(url[..^1], StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Contains(IReadOnlyList<string> values, string value)
    {
        foreach (var v in values)
        {
            if (v == All || v == value)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="owner"/> holds every permission of <paramref name="servant"/>: each of the servant's
    /// single permissions (one verb, group, resource and name, or one verb and URL) is granted by some owner rule.
    /// A wildcard in the servant is one permission of its own, covered only by the same wildcard.
    /// </summary>
    public static bool Covers(IReadOnlyList<PolicyRuleMatcher> owner, PolicyRuleMatcher servant, out string? missing)
    {
        foreach (var verb in servant.Verbs)
        {
            foreach (var group in servant.ApiGroups)
            {
                foreach (var resource in servant.Resources)
                {
                    IEnumerable<string?> names = servant.ResourceNames.Count == 0 ? new string?[] { null } : (IEnumerable<string?>)servant.ResourceNames;
                    foreach (var name in names)
                    {
                        if (!owner.Any(o => o.CoversResource(verb, group, resource, name)))
                        {
                            missing = $"{{APIGroups:[\"{group}\"], Resources:[\"{resource}\"]{(name is null ? string.Empty : $", ResourceNames:[\"{name}\"]")}, Verbs:[\"{verb}\"]}}";
                            return false;
                        }
                    }
                }
            }

            foreach (var url in servant.NonResourceUrls)
            {
                if (!owner.Any(o => o.CoversUrl(verb, url)))
                {
                    missing = $"{{NonResourceURLs:[\"{url}\"], Verbs:[\"{verb}\"]}}";
                    return false;
                }
            }
        }

        missing = null;
        return true;
    }

    private bool CoversResource(string verb, string group, string resource, string? name)
    {
        if (!Contains(Verbs, verb) || !Contains(ApiGroups, group))
        {
            return false;
        }

        var resourceCovered = false;
        foreach (var r in Resources)
        {
            if (r == All || r == resource)
            {
                resourceCovered = true;
                break;
            }

            // "*/scale" in the owner covers "deployments/scale" in the servant.
            var slash = resource.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && r.StartsWith("*/", StringComparison.Ordinal) && r.AsSpan(1).SequenceEqual(resource.AsSpan(slash)))
            {
                resourceCovered = true;
                break;
            }
        }

        return resourceCovered && (ResourceNames.Count == 0 || (name is not null && ResourceNames.Contains(name, StringComparer.Ordinal)));
    }

    private bool CoversUrl(string verb, string url) =>
        Contains(Verbs, verb) && NonResourceUrls.Any(u => u == All || u == url || (u.EndsWith('*') && url.StartsWith(u[..^1], StringComparison.Ordinal)));

    public JsonObject ToJson()
    {
        var rule = new JsonObject { ["verbs"] = Array(Verbs) };
        if (NonResourceUrls.Count > 0)
        {
            rule["nonResourceURLs"] = Array(NonResourceUrls);
        }

        if (ApiGroups.Count > 0 || Resources.Count > 0)
        {
            rule["apiGroups"] = Array(ApiGroups);
            rule["resources"] = Array(Resources);
        }

        if (ResourceNames.Count > 0)
        {
            rule["resourceNames"] = Array(ResourceNames);
        }

        return rule;

        static JsonArray Array(IReadOnlyList<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);
    }

    private static string[] Strings(JsonElement rule, string field)
    {
        if (!rule.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var values = new List<string>(array.GetArrayLength());
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                values.Add(item.GetString()!);
            }
        }

        return [.. values];
    }
}
