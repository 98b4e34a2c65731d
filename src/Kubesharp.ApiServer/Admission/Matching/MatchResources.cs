using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Selectors;

namespace Kubesharp.ApiServer.Admission.Matching;

/// <summary>
/// Which requests a webhook, policy or binding looks at: resource rules (and rules excluded), namespace and object
/// selectors and the match policy, with upstream's defaults (every namespace, every object, Equivalent).
/// </summary>
internal sealed record MatchResources
{
    public required IReadOnlyList<AdmissionRule> Rules { get; init; }

    public IReadOnlyList<AdmissionRule> ExcludeRules { get; init; } = [];

    public LabelSelector NamespaceSelector { get; init; } = LabelSelector.Everything;

    public LabelSelector ObjectSelector { get; init; } = LabelSelector.Everything;

    public bool ExactMatch { get; init; }

    /// <summary>A binding without resource rules matches whatever its policy matches.</summary>
    public bool AnyResource { get; init; }

    public static MatchResources Everything { get; } = new() { Rules = [], AnyResource = true };

    /// <summary>A policy's matchConstraints or a binding's matchResources (<paramref name="binding"/>: rules optional).</summary>
    public static MatchResources Parse(JsonElement match, bool binding)
    {
        if (match.ValueKind != JsonValueKind.Object)
        {
            return binding ? Everything : new MatchResources { Rules = [] };
        }

        var rules = AdmissionRule.ParseList(match, "resourceRules");
        return new MatchResources
        {
            Rules = rules,
            ExcludeRules = AdmissionRule.ParseList(match, "excludeResourceRules"),
            NamespaceSelector = Selector(match, "namespaceSelector"),
            ObjectSelector = Selector(match, "objectSelector"),
            ExactMatch = match.TryGetProperty("matchPolicy", out var p) && p.ValueKind == JsonValueKind.String && p.GetString() == "Exact",
            AnyResource = binding && rules.Count == 0,
        };
    }

    /// <summary>A label selector field; an unreadable one selects nothing.</summary>
    public static LabelSelector Selector(JsonElement parent, string field)
    {
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty(field, out var selector) || selector.ValueKind != JsonValueKind.Object)
        {
            return LabelSelector.Everything;
        }

        try
        {
            return LabelSelector.FromJson(JsonNode.Parse(selector.GetRawText()));
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException)
        {
            return LabelSelector.Nothing;
        }
    }
}
