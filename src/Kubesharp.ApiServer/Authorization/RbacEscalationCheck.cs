using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// Escalation prevention on writes of roles and bindings, as upstream's RBAC storage does: a user may write a role
/// only with rules it holds itself (or with the escalate verb on that role), and bind a role only when it holds the
/// role's rules (or has the bind verb on that role). An aggregationRule can gather anything, so it needs every right.
/// </summary>
internal static class RbacEscalationCheck
{
    private static readonly PolicyRuleMatcher[] FullAuthority =
    [
        new(["*"], ["*"], ["*"], [], []),
        new(["*"], [], [], [], ["*"]),
    ];

    public static void Check(RequestAuthorizer authorizer, UserInfo? user, ApiResource resource, string? @namespace, JsonObject obj)
    {
        if (user is null || resource.Group != RbacAuthorizer.Group || authorizer.Rbac is not { } rbac || RequestAuthorizer.IsSuperuser(user))
        {
            return;
        }

        var ns = @namespace ?? string.Empty;
        var name = (string?)obj["metadata"]?["name"] ?? string.Empty;
        switch (resource.Resource)
        {
            case "roles" or "clusterroles":
                if (authorizer.Authorize(user, new RequestInfo(true, "escalate", string.Empty, RbacAuthorizer.Group, resource.Resource, string.Empty, ns, name)).Allowed)
                {
                    return;
                }

                Confirm(rbac, user, resource, ns, name, PolicyRuleMatcher.ParseRules(obj));
                if (resource.Resource == "clusterroles" && obj["aggregationRule"] is JsonObject)
                {
                    var held = rbac.RulesFor(user, string.Empty);
                    if (!FullAuthority.All(r => PolicyRuleMatcher.Covers(held, r, out _)))
                    {
                        throw RequestAuthorizer.Forbidden(RbacAuthorizer.Group, resource.Resource, name, "must have cluster-admin privileges to use the aggregationRule");
                    }
                }

                break;
            case "rolebindings" or "clusterrolebindings":
                var roleKind = (string?)obj["roleRef"]?["kind"] ?? string.Empty;
                var roleName = (string?)obj["roleRef"]?["name"] ?? string.Empty;
                var roleResource = roleKind == "ClusterRole" ? "clusterroles" : "roles";
                if (authorizer.Authorize(user, new RequestInfo(true, "bind", string.Empty, RbacAuthorizer.Group, roleResource, string.Empty, ns, roleName)).Allowed)
                {
                    return;
                }

                Confirm(rbac, user, resource, ns, name, rbac.RoleRules(roleKind, roleName, ns));
                break;
        }
    }

    private static void Confirm(RbacAuthorizer rbac, UserInfo user, ApiResource resource, string @namespace, string name, IReadOnlyList<PolicyRuleMatcher> rules)
    {
        var held = rbac.RulesFor(user, @namespace);
        var missing = new List<string>();
        foreach (var rule in rules)
        {
            if (!PolicyRuleMatcher.Covers(held, rule, out var first))
            {
                missing.Add(first!);
            }
        }

        if (missing.Count > 0)
        {
            var groups = string.Join(" ", user.Groups.Select(g => $"\"{g}\""));
            throw RequestAuthorizer.Forbidden(RbacAuthorizer.Group, resource.Resource, name,
                $"user \"{user.Name}\" (groups=[{groups}]) is attempting to grant RBAC permissions not currently held:\n{string.Join("\n", missing)}");
        }
    }
}
