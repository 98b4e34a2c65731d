using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.Selection;

/// <summary>Evaluates a metav1.LabelSelector against a label set, with upstream semantics.</summary>
internal static class LabelSelectorEvaluator
{
    /// <summary>
    /// True when every matchLabels entry and every matchExpressions requirement holds. A null selector
    /// selects nothing; an empty selector selects everything (controllers reject empty selectors themselves).
    /// </summary>
    public static bool Matches(LabelSelector? selector, IReadOnlyDictionary<string, string>? labels)
    {
        if (selector is null)
        {
            return false;
        }

        if (selector.MatchLabels is { } matchLabels)
        {
            foreach (var (key, value) in matchLabels)
            {
                if (labels is null || !labels.TryGetValue(key, out var actual) || actual != value)
                {
                    return false;
                }
            }
        }

        if (selector.MatchExpressions is { } expressions)
        {
            foreach (var requirement in expressions)
            {
                if (!Matches(requirement, labels))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>True when the selector has no requirements at all (which would select every object).</summary>
    public static bool IsEmpty(LabelSelector? selector) =>
        selector is not null && (selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0;

    private static bool Matches(LabelSelectorRequirement requirement, IReadOnlyDictionary<string, string>? labels)
    {
        var key = requirement.Key ?? string.Empty;
        string? actual = null;
        var present = labels is not null && labels.TryGetValue(key, out actual);
        var values = requirement.Values ?? [];
        return requirement.Operator switch
        {
            "In" => present && values.Contains(actual!),
            "NotIn" => !present || !values.Contains(actual!),
            "Exists" => present,
            "DoesNotExist" => !present,
            _ => false,
        };
    }
}
