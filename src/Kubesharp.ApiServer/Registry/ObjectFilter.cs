using System.Text.Json;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry;

/// <summary>A list or watch filter: namespace, label selector and field selector.</summary>
internal sealed class ObjectFilter
{
    private static readonly Dictionary<string, string[]> FieldsByResource = new(StringComparer.Ordinal)
    {
        ["pods"] = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
        ["events"] = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type", "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "note"],
        ["secrets"] = ["type"],
        ["nodes"] = ["spec.unschedulable"],
        ["namespaces"] = ["status.phase"],
        ["replicasets.apps"] = ["status.replicas"],
        ["replicationcontrollers"] = ["status.replicas"],
        ["jobs.batch"] = ["status.successful"],
        ["services"] = ["spec.clusterIP", "spec.type"],
        ["certificatesigningrequests.certificates.k8s.io"] = ["spec.signerName"],
    };

    private readonly List<Requirement> _labels;
    private readonly List<(string Field, string Value, bool Equal)> _fields;

    private ObjectFilter(string? @namespace, List<Requirement> labels, List<(string, string, bool)> fields)
    {
        Namespace = @namespace;
        _labels = labels;
        _fields = fields;
    }

    public string? Namespace { get; }

    /// <summary>metadata.name=x selects a single object; lets lists and watches skip the rest.</summary>
    public string? Name => _fields.FirstOrDefault(f => f.Field == "metadata.name" && f.Equal).Value;

    public bool IsEverything => Namespace is null && _labels.Count == 0 && _fields.Count == 0;

    /// <summary>The selectable fields of a built-in resource.</summary>
    public static IReadOnlyCollection<string> FieldsOf(string groupResource) =>
        FieldsByResource.TryGetValue(groupResource, out var fields) ? fields : [];

    public static ObjectFilter Parse(string groupResource, string? @namespace, string? labelSelector, string? fieldSelector) =>
        Parse(FieldsOf(groupResource), @namespace, labelSelector, fieldSelector);

    public static ObjectFilter Parse(IReadOnlyCollection<string> selectableFields, string? @namespace, string? labelSelector, string? fieldSelector)
    {
        var labels = string.IsNullOrWhiteSpace(labelSelector) ? [] : ParseLabels(labelSelector);
        var fields = new List<(string, string, bool)>();
        if (!string.IsNullOrWhiteSpace(fieldSelector))
        {
            foreach (var term in SplitTerms(fieldSelector))
            {
                var (key, op, value) = SplitOperator(term) ?? throw StatusError.BadRequest($"invalid selector: '{fieldSelector}'; can't understand '{term}'");
                if (op is not ("=" or "==" or "!="))
                {
                    throw StatusError.BadRequest($"invalid selector: '{fieldSelector}'; can't understand '{term}'");
                }

                if (key != "metadata.name" && key != "metadata.namespace" && !selectableFields.Contains(key))
                {
                    throw StatusError.BadRequest($"field label not supported: {key}");
                }

                fields.Add((key, value, op != "!="));
            }
        }

        return new ObjectFilter(@namespace, labels, fields);
    }

    public bool Matches(CachedObject obj)
    {
        if (Namespace is not null && obj.Namespace != Namespace)
        {
            return false;
        }

        foreach (var requirement in _labels)
        {
            if (!requirement.Matches(obj.Labels))
            {
                return false;
            }
        }

        foreach (var (field, value, equal) in _fields)
        {
            if ((FieldValue(obj, field) == value) != equal)
            {
                return false;
            }
        }

        return true;
    }

    private static string FieldValue(CachedObject obj, string field)
    {
        switch (field)
        {
            case "metadata.name":
                return obj.Name;
            case "metadata.namespace":
                return obj.Namespace;
            case "source":
                field = "source.component";
                break;
        }

        return obj.FieldText(field);
    }

    private static List<string> SplitTerms(string selector)
    {
        var terms = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            if (selector[i] == '(')
            {
                depth++;
            }
            else if (selector[i] == ')')
            {
                depth--;
            }
            else if (selector[i] == ',' && depth == 0)
            {
                terms.Add(selector[start..i].Trim());
                start = i + 1;
            }
        }

        terms.Add(selector[start..].Trim());
        return terms.Where(t => t.Length > 0).ToList();
    }

    private static (string Key, string Op, string Value)? SplitOperator(string term)
    {
        foreach (var op in new[] { "!=", "==", "=" })
        {
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at > 0)
            {
                return (term[..at].Trim(), op, term[(at + op.Length)..].Trim());
            }
        }

        return null;
    }

    private static List<Requirement> ParseLabels(string selector)
    {
        var requirements = new List<Requirement>();
        foreach (var term in SplitTerms(selector))
        {
            Requirement requirement;
            var words = term.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 2 && (words[1].StartsWith("in ", StringComparison.Ordinal) || words[1].StartsWith("in(", StringComparison.Ordinal) || words[1].StartsWith("notin", StringComparison.Ordinal)))
            {
                var notIn = words[1].StartsWith("notin", StringComparison.Ordinal);
                var list = words[1][(notIn ? 5 : 2)..].Trim();
                if (!list.StartsWith('(') || !list.EndsWith(')'))
                {
                    throw StatusError.BadRequest($"unable to parse requirement: found '{term}', expected: '('");
                }

                var values = list[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                requirement = new Requirement(words[0], notIn ? "notin" : "in", values);
            }
            else if (term.StartsWith('!'))
            {
                requirement = new Requirement(term[1..].Trim(), "!", []);
            }
            else if (SplitOperator(term) is { } split)
            {
                requirement = new Requirement(split.Key, split.Op == "!=" ? "!=" : "=", [split.Value]);
            }
            else if (term.Contains('>', StringComparison.Ordinal) || term.Contains('<', StringComparison.Ordinal))
            {
                var op = term.Contains('>', StringComparison.Ordinal) ? ">" : "<";
                var parts = term.Split(op[0], 2, StringSplitOptions.TrimEntries);
                requirement = new Requirement(parts[0], op, [parts[1]]);
            }
            else
            {
                requirement = new Requirement(term, "exists", []);
            }

            if (requirement.Key.Length == 0 || requirement.Key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '=' or '!'))
            {
                throw StatusError.BadRequest($"unable to parse requirement: invalid label key \"{requirement.Key}\"");
            }

            requirements.Add(requirement);
        }

        return requirements;
    }

    private sealed record Requirement(string Key, string Op, HashSet<string> Values)
    {
        public bool Matches(IReadOnlyDictionary<string, string> labels)
        {
            var present = labels.TryGetValue(Key, out var value);
            return Op switch
            {
                "=" or "in" => present && Values.Contains(value!),
                "!=" or "notin" => !present || !Values.Contains(value!),
                "exists" => present,
                "!" => !present,
                ">" => present && long.TryParse(value, out var a) && long.TryParse(Values.First(), out var b) && a > b,
                "<" => present && long.TryParse(value, out var c) && long.TryParse(Values.First(), out var d) && c < d,
                _ => false,
            };
        }
    }
}
