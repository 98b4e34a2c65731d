using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Selectors;

/// <summary>
/// A label selector: requirements that must all hold. Parsed from the query syntax
/// (<c>a=b,c!=d,e in (x,y),!f</c>) or built from a metav1.LabelSelector object.
/// </summary>
public sealed class LabelSelector
{
    private LabelSelector(IReadOnlyList<LabelRequirement> requirements, bool matchesNothing)
    {
        Requirements = requirements;
        MatchesNothing = matchesNothing;
    }

    /// <summary>Matches every set of labels.</summary>
    public static LabelSelector Everything { get; } = new([], false);

    /// <summary>Matches no object (a null metav1.LabelSelector).</summary>
    public static LabelSelector Nothing { get; } = new([], true);

    /// <summary>The requirements, sorted by key.</summary>
    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool MatchesNothing { get; }

    /// <summary>True when the selector has no requirement and so matches everything.</summary>
    public bool IsEverything => !MatchesNothing && Requirements.Count == 0;

    /// <summary>A selector from explicit requirements.</summary>
    public static LabelSelector FromRequirements(IEnumerable<LabelRequirement> requirements) =>
        new(requirements.OrderBy(r => r.Key, StringComparer.Ordinal).ToList(), false);

    /// <summary>Parses the query-string syntax; a syntax or validation error is a 400 BadRequest.</summary>
    public static LabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var requirements = new LabelSelectorParser(selector).Parse();
        return FromRequirements(requirements);
    }

    /// <summary>
    /// Builds the selector of a metav1.LabelSelector object (matchLabels and matchExpressions with In, NotIn,
    /// Exists, DoesNotExist). A null selector matches nothing; an empty one matches everything.
    /// </summary>
    public static LabelSelector FromJson(JsonNode? selector)
    {
        if (selector is null)
        {
            return Nothing;
        }

        if (selector is not JsonObject obj)
        {
            throw StatusException.BadRequest("a label selector must be an object");
        }

        var requirements = new List<LabelRequirement>();
        var errors = new List<FieldError>();
        if (obj["matchLabels"] is JsonObject matchLabels)
        {
            foreach (var (key, node) in matchLabels)
            {
                var value = node is JsonValue v && v.TryGetValue(out string? s) ? s : "";
                var (requirement, e) = LabelRequirement.TryCreate(key, SelectorOperator.Equals, [value]);
                requirements.Add(requirement);
                errors.AddRange(e);
            }
        }

        if (obj["matchExpressions"] is JsonArray expressions)
        {
            foreach (var expression in expressions.OfType<JsonObject>())
            {
                var key = expression["key"] is JsonValue k && k.TryGetValue(out string? ks) ? ks : "";
                var op = expression["operator"] is JsonValue o && o.TryGetValue(out string? os) ? os : "";
                var selectorOperator = op switch
                {
                    "In" => SelectorOperator.In,
                    "NotIn" => SelectorOperator.NotIn,
                    "Exists" => SelectorOperator.Exists,
                    "DoesNotExist" => SelectorOperator.DoesNotExist,
                    _ => throw StatusException.BadRequest($"{QuotedString.Quote(op)} is not a valid label selector operator"),
                };
                var values = expression["values"] is JsonArray vs
                    ? vs.Select(n => n is JsonValue jv && jv.TryGetValue(out string? s) ? s : "").ToList()
                    : [];
                var (requirement, e) = LabelRequirement.TryCreate(key, selectorOperator, values);
                requirements.Add(requirement);
                errors.AddRange(e);
            }
        }

        if (errors.Count > 0)
        {
            throw StatusException.BadRequest(FieldError.Aggregate(errors));
        }

        return requirements.Count == 0 ? Everything : FromRequirements(requirements);
    }

    /// <summary>A selector matching exactly these labels (a Service's or ReplicationController's selector map).</summary>
    public static LabelSelector FromLabels(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return Everything;
        }

        return FromRequirements(labels.Select(l => LabelRequirement.Create(l.Key, SelectorOperator.Equals, [l.Value])));
    }

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

    /// <summary>Matches the <c>metadata.labels</c> object of a JSON object.</summary>
    public bool Matches(JsonObject? labels)
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

    /// <summary>The canonical selector text (requirements sorted by key).</summary>
    public override string ToString() => string.Join(",", Requirements);
}
