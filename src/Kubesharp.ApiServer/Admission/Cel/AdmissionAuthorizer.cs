using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Admission.Cel;

/// <summary>
/// The <c>authorizer</c> of admission expressions: asks this server's authorizers (the superuser short-cut, the node
/// authorizer, RBAC) about the request's user, or about a service account named in the expression.
/// </summary>
internal sealed class AdmissionAuthorizer(RequestAuthorizer authorizer, UserInfo user) : ICelAuthorizer
{
    public CelAuthorizationDecision Authorize(CelAuthorizationCheck check)
    {
        var request = check.Path is { } path
            ? new RequestInfo(false, check.Verb, path)
            : new RequestInfo(true, check.Verb, string.Empty, check.Group, check.Resource, check.Subresource, check.Namespace, check.Name);
        var decision = authorizer.Authorize(user, request);
        return new CelAuthorizationDecision(decision.Allowed, decision.Reason, string.Empty);
    }

    public ICelAuthorizer ForServiceAccount(string @namespace, string name) =>
        new AdmissionAuthorizer(authorizer, new UserInfo($"system:serviceaccount:{@namespace}:{name}", ["system:serviceaccounts", $"system:serviceaccounts:{@namespace}", UserInfo.AuthenticatedGroup]));
}
