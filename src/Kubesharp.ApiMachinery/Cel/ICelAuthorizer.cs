namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// What the <c>authorizer</c> variable of admission expressions asks the host: may the request's user (or a
/// service account) do a verb on a resource or a non-resource path. Upstream's CEL authorizer library.
/// </summary>
public interface ICelAuthorizer
{
    CelAuthorizationDecision Authorize(CelAuthorizationCheck check);

    /// <summary>The same questions asked for a service account instead of the request's user.</summary>
    ICelAuthorizer ForServiceAccount(string @namespace, string name);
}

/// <summary>One question: a resource (group, resource, subresource, namespace, name) or, when <see cref="Path"/> is set, a path.</summary>
public sealed record CelAuthorizationCheck(string Verb, string? Path, string Group, string Resource, string Subresource, string Namespace, string Name);

/// <summary>The answer: allowed or not, with the authorizer's reason, or the error that kept it from deciding.</summary>
public sealed record CelAuthorizationDecision(bool Allowed, string Reason, string Error);
