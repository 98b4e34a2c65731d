using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// The authorization stage of the request pipeline: members of system:masters may do everything (upstream's
/// privileged-group short-cut, so the cluster stays manageable whatever the bindings say); everyone else is asked of
/// the node authorizer, then RBAC. Nothing allowing a request denies it.
/// </summary>
internal sealed class RequestAuthorizer
{
    public RequestAuthorizer(ResourceRegistry registry)
    {
        Node = new NodeAuthorizer(registry);
        Rbac = RbacAuthorizer.Create(registry);
    }

    public NodeAuthorizer Node { get; }

    /// <summary>Null when the catalog has no RBAC resources: then only the superuser short-cut and the node authorizer decide.</summary>
    public RbacAuthorizer? Rbac { get; }

    public static bool IsSuperuser(UserInfo user) => user.Groups.Contains(BootstrapPolicy.MastersGroup);

    public AuthorizationDecision Authorize(UserInfo user, RequestInfo request)
    {
        if (IsSuperuser(user))
        {
            return AuthorizationDecision.Allow();
        }

        var node = Node.Authorize(user, request);
        if (node.Outcome != AuthorizationOutcome.NoOpinion)
        {
            return node;
        }

        var rbac = Rbac?.Authorize(user, request) ?? AuthorizationDecision.NoOpinion();
        return rbac.Outcome == AuthorizationOutcome.NoOpinion && node.Reason.Length > 0 ? node : rbac;
    }

    /// <summary>Upstream's 403 for a refused request: what the user cannot do, on which resource, where.</summary>
    public static StatusError Forbidden(UserInfo user, RequestInfo request, string reason)
    {
        string message;
        if (!request.IsResourceRequest)
        {
            message = $"User \"{user.Name}\" cannot {request.Verb} path \"{request.Path}\"";
        }
        else
        {
            var resource = request.QualifiedResource;
            message = request.Namespace.Length > 0
                ? $"User \"{user.Name}\" cannot {request.Verb} resource \"{resource}\" in API group \"{request.ApiGroup}\" in the namespace \"{request.Namespace}\""
                : $"User \"{user.Name}\" cannot {request.Verb} resource \"{resource}\" in API group \"{request.ApiGroup}\" at the cluster scope";
        }

        if (reason.Length > 0)
        {
            message = $"{message}: {reason}";
        }

        return Forbidden(request.ApiGroup, request.Resource, request.Name, message);
    }

    /// <summary>apierrors.NewForbidden: "RESOURCE[.GROUP] [\"NAME\"] is forbidden: DETAIL", or "forbidden: DETAIL" off resources.</summary>
    public static StatusError Forbidden(string group, string resource, string name, string detail)
    {
        var message = resource.Length == 0
            ? $"forbidden: {detail}"
            : name.Length == 0
                ? $"{StatusError.Qualified(resource, group)} is forbidden: {detail}"
                : $"{StatusError.Qualified(resource, group)} \"{name}\" is forbidden: {detail}";
        return new StatusError(403, "Forbidden", message, name: name.Length == 0 ? null : name, group: group, kind: resource.Length == 0 ? null : resource);
    }
}
