using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// Brings the default ClusterRoles and ClusterRoleBindings to the bootstrap policy at start, as upstream's RBAC
/// post-start hook does: missing ones are created; existing ones get the rules, subjects, labels and annotations
/// they lack (what an administrator added stays), unless annotated rbac.authorization.kubernetes.io/autoupdate=false.
/// </summary>
internal static class BootstrapPolicyReconciler
{
    public static async Task ReconcileAsync(ResourceRegistry registry, CancellationToken cancellationToken)
    {
        if (registry.Find(RbacAuthorizer.Group, "v1", "clusterroles") is not { } roles ||
            registry.Find(RbacAuthorizer.Group, "v1", "clusterrolebindings") is not { } bindings)
        {
            return;
        }

        // Each object is a write of its own: made together, they share the store's commits instead of waiting for a
        // disk sync each, one after another (a binding may name a role not yet made, as RBAC allows).
        await Task.WhenAll(
            BootstrapPolicy.ClusterRoles.Select(role => ReconcileAsync(registry, roles, role, MergeRole, cancellationToken))
                .Concat(BootstrapPolicy.ClusterRoleBindings.Select(binding => ReconcileAsync(registry, bindings, binding, MergeBinding, cancellationToken))))
            .ConfigureAwait(false);
    }

    private static async Task ReconcileAsync(ResourceRegistry registry, ApiResource resource, JsonObject expected, Func<JsonObject, JsonObject, bool> merge, CancellationToken cancellationToken)
    {
        var name = (string)expected["metadata"]!["name"]!;
        var existing = registry.Get(resource, null, name);
        if (existing is null)
        {
            try
            {
                await registry.CreateAsync(resource, null, expected.DeepClone().AsObject(), dryRun: false, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StatusError error) when (error.Reason == "AlreadyExists")
            {
                existing = registry.Get(resource, null, name);
                if (existing is null)
                {
                    return;
                }
            }
        }

        var current = existing.ToNode();
        if ((string?)current["metadata"]?["annotations"]?[BootstrapPolicy.AutoUpdateAnnotation] == "false")
        {
            return;
        }

        if (!merge(current, expected))
        {
            return;
        }

        await registry.UpdateAsync(resource, null, name, fresh =>
        {
            var desired = fresh.ToNode();
            merge(desired, expected);
            return desired;
        }, subresource: null, dryRun: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds what <paramref name="current"/> lacks of <paramref name="expected"/>; true when anything changed.</summary>
    private static bool MergeRole(JsonObject current, JsonObject expected)
    {
        var changed = MergeMetadata(current, expected);
        if (expected["aggregationRule"] is JsonObject aggregation)
        {
            // Aggregated roles get their rules from the aggregation controller; only the selectors are kept here.
            var selectors = (current["aggregationRule"] as JsonObject)?["clusterRoleSelectors"] as JsonArray;
            foreach (var selector in (JsonArray)aggregation["clusterRoleSelectors"]!)
            {
                if (selectors is null)
                {
                    current["aggregationRule"] = new JsonObject { ["clusterRoleSelectors"] = selectors = [] };
                }

                if (!selectors.Any(s => JsonNode.DeepEquals(s, selector)))
                {
                    selectors.Add(selector!.DeepClone());
                    changed = true;
                }
            }

            return changed;
        }

        var owned = PolicyRuleMatcher.ParseRules(current);
        var rules = current["rules"] as JsonArray;
        foreach (var rule in (JsonArray)expected["rules"]!)
        {
            var wanted = PolicyRuleMatcher.ParseRules(new JsonObject { ["rules"] = new JsonArray(rule!.DeepClone()) })[0];
            if (!PolicyRuleMatcher.Covers(owned, wanted, out _))
            {
                current["rules"] = rules ??= [];
                rules.Add(rule.DeepClone());
                owned.Add(wanted);
                changed = true;
            }
        }

        return changed;
    }

    private static bool MergeBinding(JsonObject current, JsonObject expected)
    {
        var changed = MergeMetadata(current, expected);
        if (expected["subjects"] is JsonArray wanted)
        {
            var subjects = current["subjects"] as JsonArray;
            foreach (var subject in wanted)
            {
                if (subjects?.Any(s => (string?)s?["kind"] == (string?)subject!["kind"] && (string?)s?["name"] == (string?)subject["name"] && (string?)s?["namespace"] == (string?)subject["namespace"]) != true)
                {
                    current["subjects"] = subjects ??= [];
                    subjects.Add(subject!.DeepClone());
                    changed = true;
                }
            }
        }

        return changed;
    }

    private static bool MergeMetadata(JsonObject current, JsonObject expected)
    {
        var changed = false;
        var meta = (JsonObject)current["metadata"]!;
        foreach (var field in new[] { "labels", "annotations" })
        {
            if (expected["metadata"]![field] is not JsonObject wanted)
            {
                continue;
            }

            if (meta[field] is not JsonObject have)
            {
                meta[field] = have = [];
            }

            foreach (var (key, value) in wanted)
            {
                if (!have.ContainsKey(key))
                {
                    have[key] = value!.DeepClone();
                    changed = true;
                }
            }
        }

        return changed;
    }
}
