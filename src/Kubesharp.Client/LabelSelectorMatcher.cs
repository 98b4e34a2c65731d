using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client;

/// <summary>
/// A parsed label selector: all requirements must match. Built from the text form
/// (<c>app=web,tier!=db,env in (a,b),!legacy</c>) or from a metav1 LabelSelector.
/// </summary>
public sealed class LabelSelectorMatcher
{
    private LabelSelectorMatcher(IReadOnlyList<LabelRequirement> requirements, bool matchesNothing)
    {
        Requirements = requirements;
        MatchesNothing = matchesNothing;
    }

    /// <summary>Matches every object (empty selector).</summary>
    public static LabelSelectorMatcher Everything { get; } = new([], false);

    /// <summary>Matches no object (a null LabelSelector in most API fields).</summary>
    public static LabelSelectorMatcher Nothing { get; } = new([], true);

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool MatchesNothing { get; }

    public bool IsEmpty => !MatchesNothing && Requirements.Count == 0;

    /// <summary>A selector from requirements (all must match).</summary>
    public static LabelSelectorMatcher Create(IEnumerable<LabelRequirement> requirements) => new([.. requirements], false);

    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        if (MatchesNothing)
        {
            return false;
        }

        foreach (var requirement in Requirements)
        {
            if (!requirement.Matches(labels))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>metav1.LabelSelector semantics: null matches nothing, empty matches everything.</summary>
    public static LabelSelectorMatcher FromLabelSelector(LabelSelector? selector)
    {
        if (selector is null)
        {
            return Nothing;
        }

        var requirements = new List<LabelRequirement>();
        if (selector.MatchLabels is { } labels)
        {
            foreach (var (key, value) in labels)
            {
                requirements.Add(new LabelRequirement(key, LabelOperator.In, [value]));
            }
        }

        if (selector.MatchExpressions is { } expressions)
        {
            foreach (var expression in expressions)
            {
                var op = expression.Operator switch
                {
                    "In" => LabelOperator.In,
                    "NotIn" => LabelOperator.NotIn,
                    "Exists" => LabelOperator.Exists,
                    "DoesNotExist" => LabelOperator.DoesNotExist,
                    _ => throw new FormatException($"\"{expression.Operator}\" is not a valid label selector operator"),
                };
                requirements.Add(new LabelRequirement(expression.Key ?? "", op, expression.Values ?? []));
            }
        }

        return requirements.Count == 0 ? Everything : new LabelSelectorMatcher(requirements, false);
    }

    /// <summary>Parses the text form used by ?labelSelector= and kubectl -l.</summary>
    public static LabelSelectorMatcher Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var requirements = new List<LabelRequirement>();
        foreach (var part in SplitTopLevel(text))
        {
            requirements.Add(ParseRequirement(part.Trim()));
        }

        return new LabelSelectorMatcher(requirements, false);
    }

    private static LabelRequirement ParseRequirement(string part)
    {
        if (part.StartsWith('!'))
        {
            return new LabelRequirement(part[1..].Trim(), LabelOperator.DoesNotExist, []);
        }

        var space = part.IndexOf(' ', StringComparison.Ordinal);
        var paren = part.IndexOf('(', StringComparison.Ordinal);
        if (paren > 0 && space > 0 && space < paren)
        {
            var key = part[..space].Trim();
            var op = part[space..paren].Trim();
            var close = part.LastIndexOf(')');
            if (close < paren)
            {
                throw new FormatException($"unterminated value set in \"{part}\"");
            }

            var values = part[(paren + 1)..close].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return op switch
            {
                "in" => new LabelRequirement(key, LabelOperator.In, values),
                "notin" => new LabelRequirement(key, LabelOperator.NotIn, values),
                _ => throw new FormatException($"unknown operator \"{op}\" in \"{part}\""),
            };
        }

        foreach (var (token, op) in new[] { ("!=", LabelOperator.NotIn), ("==", LabelOperator.In), ("=", LabelOperator.In), (">", LabelOperator.GreaterThan), ("<", LabelOperator.LessThan) })
        {
            var index = part.IndexOf(token, StringComparison.Ordinal);
            if (index > 0)
            {
                return new LabelRequirement(part[..index].Trim(), op, [part[(index + token.Length)..].Trim()]);
            }
        }

        return new LabelRequirement(part, LabelOperator.Exists, []);
    }

    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    parts.Add(text[start..i]);
                    start = i + 1;
                    break;
            }
        }

        parts.Add(text[start..]);
        return parts.Where(p => p.Trim().Length > 0).ToList();
    }
}
