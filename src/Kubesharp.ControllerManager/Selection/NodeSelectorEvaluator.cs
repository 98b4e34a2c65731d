using System.Globalization;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Selection;

/// <summary>Whether a node satisfies a pod's nodeSelector and required node affinity (labels and metadata.name).</summary>
internal static class NodeSelectorEvaluator
{
    public static bool RequiredMatches(PodSpec? spec, Node node)
    {
        var labels = node.Metadata?.Labels;
        foreach (var (key, value) in spec?.NodeSelector ?? [])
        {
            if (labels is null || !labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        var terms = spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        return terms is null || terms.Any(t => TermMatches(t, node));
    }

    /// <summary>Every expression and field of a term must hold; an empty term matches nothing.</summary>
    public static bool TermMatches(NodeSelectorTerm term, Node node)
    {
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0)
        {
            return false;
        }

        var labels = node.Metadata?.Labels;
        return expressions.All(r => Matches(r, labels is not null && labels.TryGetValue(r.Key ?? string.Empty, out var v) ? v : null))
            && fields.All(r => r.Key == "metadata.name" && Matches(r, node.Metadata?.Name));
    }

    private static bool Matches(NodeSelectorRequirement requirement, string? value)
    {
        var values = requirement.Values ?? [];
        return requirement.Operator switch
        {
            "In" => value is not null && values.Contains(value),
            "NotIn" => value is null || !values.Contains(value),
            "Exists" => value is not null,
            "DoesNotExist" => value is null,
            "Gt" => Compare(value, values) > 0,
            "Lt" => Compare(value, values) < 0,
            _ => false,
        };
    }

    /// <summary>The sign of value minus the single bound, or 0 when either is not an integer.</summary>
    private static int Compare(string? value, List<string> values) =>
        value is not null && values.Count == 1
            && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            && long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bound)
            ? v.CompareTo(bound)
            : 0;
}
