using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Audit;

/// <summary>
/// An audit.k8s.io/v1 Policy: the first rule that matches a request sets its level; no rule matching means None.
/// Stages and managedFields omissions of the policy apply unless the matching rule sets its own.
/// </summary>
internal sealed class AuditPolicy(IReadOnlyList<AuditPolicyRule> rules, IReadOnlySet<AuditStage> omitStages, bool omitManagedFields)
{
    public const string ApiVersion = "audit.k8s.io/v1";

    public IReadOnlyList<AuditPolicyRule> Rules { get; } = rules;

    public static AuditPolicy Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"the audit policy {path} cannot be read: {ex.Message}", ex);
        }

        return Parse(text);
    }

    /// <exception cref="FormatException">The text is not a valid audit Policy.</exception>
    public static AuditPolicy Parse(string text)
    {
        JsonNode? document;
        try
        {
            document = YamlDecoder.Decode(text);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new FormatException($"the audit policy is not YAML or JSON: {ex.Message}", ex);
        }

        if (document is not JsonObject root || root["kind"]?.GetValue<string>() != "Policy" || root["apiVersion"]?.GetValue<string>() != ApiVersion)
        {
            throw new FormatException($"the audit policy must be kind Policy of apiVersion {ApiVersion}");
        }

        var rules = new List<AuditPolicyRule>();
        var index = 0;
        foreach (var node in root["rules"] as JsonArray ?? [])
        {
            var at = $"rules[{index++}]";
            if (node is not JsonObject rule)
            {
                throw new FormatException($"{at} must be an object");
            }

            var resources = new List<AuditGroupResources>();
            foreach (var group in rule["resources"] as JsonArray ?? [])
            {
                resources.Add(new AuditGroupResources(group?["group"]?.GetValue<string>() ?? string.Empty, Strings(group?["resources"]), Strings(group?["resourceNames"])));
            }

            var parsed = new AuditPolicyRule(
                ParseLevel(rule["level"]?.GetValue<string>(), at),
                Strings(rule["users"]),
                Strings(rule["userGroups"]),
                Strings(rule["verbs"]),
                resources,
                Strings(rule["namespaces"]),
                Strings(rule["nonResourceURLs"]),
                rule["omitStages"] is { } stages ? ParseStages(stages, $"{at}.omitStages") : null,
                rule["omitManagedFields"]?.GetValue<bool>());
            if (parsed.NonResourceUrls.Count > 0 && (parsed.Resources.Count > 0 || parsed.Namespaces.Count > 0))
            {
                throw new FormatException($"{at}: rules cannot apply to both regular resources and non-resource URLs");
            }

            rules.Add(parsed);
        }

        return new AuditPolicy(rules, ParseStages(root["omitStages"], "omitStages"), root["omitManagedFields"]?.GetValue<bool>() ?? false);
    }

    /// <summary>The level and omissions for a request by <paramref name="user"/>.</summary>
    public AuditRequirement Evaluate(UserInfo user, RequestInfo info)
    {
        foreach (var rule in Rules)
        {
            if (Matches(rule, user, info))
            {
                if (rule.Level == AuditLevel.None)
                {
                    return AuditRequirement.None;
                }

                var stages = rule.OmitStages is null ? omitStages : new HashSet<AuditStage>(omitStages.Concat(rule.OmitStages));
                return new AuditRequirement(rule.Level, stages, rule.OmitManagedFields ?? omitManagedFields);
            }
        }

        return AuditRequirement.None;
    }

    private static bool Matches(AuditPolicyRule rule, UserInfo user, RequestInfo info)
    {
        if (rule.Users.Count > 0 && !rule.Users.Contains(user.Name))
        {
            return false;
        }

        if (rule.UserGroups.Count > 0 && !user.Groups.Any(rule.UserGroups.Contains))
        {
            return false;
        }

        if (rule.Verbs.Count > 0 && !rule.Verbs.Contains(info.Verb))
        {
            return false;
        }

        if (rule.Resources.Count == 0 && rule.Namespaces.Count == 0 && rule.NonResourceUrls.Count == 0)
        {
            return true;
        }

        return info.IsResourceRequest ? MatchesResource(rule, info) : MatchesNonResource(rule, info);
    }

    private static bool MatchesResource(AuditPolicyRule rule, RequestInfo info)
    {
        if (rule.NonResourceUrls.Count > 0)
        {
            return false;
        }

        if (rule.Namespaces.Count > 0 && !rule.Namespaces.Contains(info.Namespace))
        {
            return false;
        }

        if (rule.Resources.Count == 0)
        {
            return true;
        }

        var qualified = info.QualifiedResource;
        foreach (var group in rule.Resources)
        {
            if (group.Group != info.ApiGroup)
            {
                continue;
            }

            if (group.Resources.Count == 0)
            {
                return true;
            }

            foreach (var resource in group.Resources)
            {
                var matches = resource == qualified || resource == "*"
                    || (resource.StartsWith("*/", StringComparison.Ordinal) && info.Subresource.Length > 0 && resource[2..] == info.Subresource)
                    || (resource.EndsWith("/*", StringComparison.Ordinal) && resource[..^2] == info.Resource);
                if (matches && (group.ResourceNames.Count == 0 || (info.Name.Length > 0 && group.ResourceNames.Contains(info.Name))))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool MatchesNonResource(AuditPolicyRule rule, RequestInfo info)
    {
        if (rule.Resources.Count > 0 || rule.Namespaces.Count > 0)
        {
            return false;
        }

        foreach (var url in rule.NonResourceUrls)
        {
            if (url == "*" || url == info.Path || (url.EndsWith('*') && info.Path.StartsWith(url[..^1], StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static AuditLevel ParseLevel(string? level, string at) => level switch
    {
        "None" => AuditLevel.None,
        "Metadata" => AuditLevel.Metadata,
        "Request" => AuditLevel.Request,
        "RequestResponse" => AuditLevel.RequestResponse,
        _ => throw new FormatException($"{at}.level: Unsupported value \"{level}\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\""),
    };

    private static HashSet<AuditStage> ParseStages(JsonNode? stages, string at)
    {
        var result = new HashSet<AuditStage>();
        foreach (var stage in Strings(stages))
        {
            result.Add(Enum.TryParse<AuditStage>(stage, out var parsed) && Enum.IsDefined(parsed) && stage == parsed.ToString()
                ? parsed
                : throw new FormatException($"{at}: Unsupported value \"{stage}\": supported values: \"RequestReceived\", \"ResponseStarted\", \"ResponseComplete\", \"Panic\""));
        }

        return result;
    }

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray array ? [.. array.Select(n => n?.GetValue<string>() ?? string.Empty)] : [];
}
