using System.Text.Json;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// One FlowSchema read for matching: a request matches when one rule has a subject that is the requester and a
/// resource or non-resource rule that covers what it asks for.
/// </summary>
internal sealed class FlowSchemaMatcher
{
    private const string ServiceAccountPrefix = "system:serviceaccount:";

    private readonly List<Rule> _rules;

    private FlowSchemaMatcher(string name, string? uid, string priorityLevel, int precedence, string? distinguisher, List<Rule> rules)
    {
        Name = name;
        Uid = uid;
        PriorityLevel = priorityLevel;
        Precedence = precedence;
        Distinguisher = distinguisher;
        _rules = rules;
    }

    public string Name { get; }

    public string? Uid { get; }

    public string PriorityLevel { get; }

    /// <summary>Lower numbers are consulted first; ties go by name.</summary>
    public int Precedence { get; }

    /// <summary>ByUser, ByNamespace, or null: every request of the schema is one flow.</summary>
    public string? Distinguisher { get; }

    public static FlowSchemaMatcher Parse(string name, string? uid, JsonElement root)
    {
        var spec = Property(root, "spec");
        var level = Property(Property(spec, "priorityLevelConfiguration"), "name");
        var precedence = Property(spec, "matchingPrecedence") is { ValueKind: JsonValueKind.Number } p && p.TryGetInt32(out var value) ? value : 1000;
        var distinguisher = Property(Property(spec, "distinguisherMethod"), "type") is { ValueKind: JsonValueKind.String } d ? d.GetString() : null;
        var rules = new List<Rule>();
        foreach (var rule in Items(Property(spec, "rules")))
        {
            var subjects = Items(Property(rule, "subjects")).Select(ParseSubject).ToList();
            var resourceRules = Items(Property(rule, "resourceRules")).Select(r => new ResourceRule(
                Strings(Property(r, "verbs")),
                Strings(Property(r, "apiGroups")),
                Strings(Property(r, "resources")),
                Strings(Property(r, "namespaces")),
                Property(r, "clusterScope").ValueKind == JsonValueKind.True)).ToList();
            var nonResourceRules = Items(Property(rule, "nonResourceRules")).Select(r => new NonResourceRule(
                Strings(Property(r, "verbs")),
                Strings(Property(r, "nonResourceURLs")))).ToList();
            rules.Add(new Rule(subjects, resourceRules, nonResourceRules));
        }

        return new FlowSchemaMatcher(name, uid, level.ValueKind == JsonValueKind.String ? level.GetString() ?? string.Empty : string.Empty, precedence, distinguisher, rules);
    }

    public bool Matches(RequestInfo request, UserInfo user)
    {
        // Plain loops: every request of a user outside system:masters walks most schemas before it is classified.
        foreach (var rule in _rules)
        {
            if (!AnySubjectIs(rule.Subjects, user))
            {
                continue;
            }

            if (request.IsResourceRequest)
            {
                foreach (var resourceRule in rule.ResourceRules)
                {
                    if (resourceRule.Matches(request))
                    {
                        return true;
                    }
                }
            }
            else
            {
                foreach (var nonResourceRule in rule.NonResourceRules)
                {
                    if (nonResourceRule.Matches(request))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static bool AnySubjectIs(List<Subject> subjects, UserInfo user)
    {
        foreach (var subject in subjects)
        {
            if (subject.Matches(user))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The flow a request of this schema belongs to.</summary>
    public string FlowDistinguisher(RequestInfo request, UserInfo user) => Distinguisher switch
    {
        "ByUser" => user.Name,
        "ByNamespace" => request.Namespace,
        _ => string.Empty,
    };

    private static Subject ParseSubject(JsonElement subject)
    {
        var kind = Property(subject, "kind").ValueKind == JsonValueKind.String ? Property(subject, "kind").GetString() : null;
        return kind switch
        {
            "User" => new Subject(kind, Text(Property(Property(subject, "user"), "name")), null),
            "Group" => new Subject(kind, Text(Property(Property(subject, "group"), "name")), null),
            "ServiceAccount" => new Subject(kind, Text(Property(Property(subject, "serviceAccount"), "name")), Text(Property(Property(subject, "serviceAccount"), "namespace"))),
            _ => new Subject(kind ?? string.Empty, string.Empty, null),
        };
    }

    private static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    private static IEnumerable<JsonElement> Items(JsonElement element) =>
        element.ValueKind == JsonValueKind.Array ? element.EnumerateArray() : [];

    private static string Text(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString() ?? string.Empty : string.Empty;

    private static string[] Strings(JsonElement element) => [.. Items(element).Select(Text)];

    private static bool Contains(string[] values, string value, string all)
    {
        foreach (var v in values)
        {
            if (v == value || v == all)
            {
                return true;
            }
        }

        return false;
    }

    private sealed record Rule(List<Subject> Subjects, List<ResourceRule> ResourceRules, List<NonResourceRule> NonResourceRules);

    private sealed record Subject(string Kind, string Name, string? Namespace)
    {
        public bool Matches(UserInfo user)
        {
            switch (Kind)
            {
                case "User":
                    return Name == "*" || Name == user.Name;
                case "Group":
                    return Name == "*" || user.Groups.Contains(Name);
                case "ServiceAccount":
                    if (!user.Name.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal))
                    {
                        return false;
                    }

                    var rest = user.Name[ServiceAccountPrefix.Length..];
                    var colon = rest.IndexOf(':', StringComparison.Ordinal);
                    return colon > 0 && rest[..colon] == Namespace && (Name == "*" || rest[(colon + 1)..] == Name);
                default:
                    return false;
            }
        }
    }

    private sealed record ResourceRule(string[] Verbs, string[] ApiGroups, string[] Resources, string[] Namespaces, bool ClusterScope)
    {
        public bool Matches(RequestInfo request)
        {
            if (!Contains(Verbs, request.Verb, "*") || !Contains(ApiGroups, request.ApiGroup, "*") || !Contains(Resources, request.QualifiedResource, "*"))
            {
                return false;
            }

            return request.Namespace.Length == 0 ? ClusterScope : Contains(Namespaces, request.Namespace, "*");
        }
    }

    private sealed record NonResourceRule(string[] Verbs, string[] Urls)
    {
        public bool Matches(RequestInfo request) =>
            Contains(Verbs, request.Verb, "*") &&
            Urls.Any(url => url == "*" || url == request.Path || (url.EndsWith('*') && request.Path.StartsWith(url.TrimEnd('*'), StringComparison.Ordinal)));
    }
}
