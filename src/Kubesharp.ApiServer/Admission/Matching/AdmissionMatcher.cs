using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Selectors;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Matching;

/// <summary>
/// Whether a request falls under a webhook's, policy's or binding's <see cref="MatchResources"/> (upstream's
/// admission matching shared by webhooks and policies): namespace selector, object selector, excluded rules, then
/// the rules, where matchPolicy Equivalent lets a rule naming another served version of the resource match too.
/// </summary>
internal sealed class AdmissionMatcher(ResourceRegistry registry)
{
    private static readonly HashSet<string> ExemptResources = new(StringComparer.Ordinal)
    {
        "mutatingwebhookconfigurations", "validatingwebhookconfigurations", "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
    };

    /// <summary>Admission configuration itself never goes to webhooks or policies, so a broken one cannot lock itself in.</summary>
    public static bool IsExempt(AdmissionAttributes attributes) =>
        attributes.Resource.Group == "admissionregistration.k8s.io" && ExemptResources.Contains(attributes.Resource.Resource);

    public bool Matches(MatchResources match, AdmissionAttributes attributes)
    {
        if (!MatchesNamespace(match.NamespaceSelector, attributes) || !MatchesObject(match.ObjectSelector, attributes))
        {
            return false;
        }

        if (match.ExcludeRules.Any(rule => RuleMatches(rule, exact: match.ExactMatch, attributes)))
        {
            return false;
        }

        return match.AnyResource || match.Rules.Any(rule => RuleMatches(rule, match.ExactMatch, attributes));
    }

    private bool RuleMatches(AdmissionRule rule, bool exact, AdmissionAttributes attributes)
    {
        var resource = attributes.Resource;
        if (!rule.MatchesOperation(attributes.OperationName) || !rule.MatchesScope(resource.Namespaced) ||
            !rule.MatchesGroup(resource.Group) || !rule.MatchesResource(resource.Resource, attributes.Subresource) ||
            !rule.MatchesName(attributes.Name))
        {
            return false;
        }

        if (rule.MatchesVersion(resource.Version))
        {
            return true;
        }

        // Equivalent: the same resource served under another version the rule names matches too.
        return !exact && registry.Resources.Any(r =>
            r.Group == resource.Group && r.Resource == resource.Resource && r.Version != resource.Version && rule.MatchesVersion(r.Version));
    }

    private bool MatchesNamespace(LabelSelector selector, AdmissionAttributes attributes)
    {
        if (selector.IsEverything)
        {
            return true;
        }

        if (attributes.Resource.GroupResource == "namespaces" && attributes.Subresource.Length == 0)
        {
            // A namespace is selected by its own labels.
            return selector.Matches((attributes.Object ?? attributes.OldObject)?["metadata"]?["labels"] as JsonObject);
        }

        if (!attributes.Resource.Namespaced)
        {
            return true;
        }

        var ns = registry.Namespaces is null ? null : registry.Get(registry.Namespaces, null, attributes.Namespace);
        return selector.Matches(ns?.Labels);
    }

    private static bool MatchesObject(LabelSelector selector, AdmissionAttributes attributes) =>
        selector.IsEverything ||
        selector.Matches(attributes.Object?["metadata"]?["labels"] as JsonObject) ||
        selector.Matches(attributes.OldObject?["metadata"]?["labels"] as JsonObject);

    /// <summary>The request's namespace as <c>namespaceObject</c> shows it (null for cluster-scoped requests and namespaces themselves).</summary>
    public JsonObject? NamespaceObject(AdmissionAttributes attributes)
    {
        if (attributes.Namespace.Length == 0 || attributes.Resource.GroupResource == "namespaces" || registry.Namespaces is null)
        {
            return null;
        }

        return registry.Get(registry.Namespaces, null, attributes.Namespace)?.ToNode();
    }
}
