using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Authorization;

/// <summary>
/// Acting as another user through the Impersonate-User, Impersonate-Group, Impersonate-Uid and Impersonate-Extra-KEY
/// headers. Each impersonated attribute needs the impersonate verb on users (or the ServiceAccount), groups, uids or
/// userextras/KEY; the first one refused answers 403 and the request is not served.
/// </summary>
internal static class Impersonation
{
    public const string UserHeader = "Impersonate-User";
    public const string GroupHeader = "Impersonate-Group";
    public const string UidHeader = "Impersonate-Uid";
    public const string ExtraHeaderPrefix = "Impersonate-Extra-";
    private const string ServiceAccountPrefix = "system:serviceaccount:";
    private const string AuthenticationGroup = "authentication.k8s.io";
    private const string HeaderPrefix = "Impersonate-";

    /// <summary>The user the request acts as: <paramref name="user"/> itself when no impersonation header is present.</summary>
    public static UserInfo Resolve(HttpRequest request, UserInfo user, RequestAuthorizer authorizer)
    {
        var headers = request.Headers;
        if (!AnyImpersonationHeader(headers))
        {
            // Nearly every request: nothing to parse or allocate.
            return user;
        }

        var name = headers[UserHeader].ToString();
        var groups = headers[GroupHeader].Where(g => !string.IsNullOrEmpty(g)).Select(g => g!).ToList();
        var uid = headers[UidHeader].ToString();
        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (header, values) in headers)
        {
            if (header.StartsWith(ExtraHeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                var key = Uri.UnescapeDataString(header[ExtraHeaderPrefix.Length..]).ToLowerInvariant();
                extra[key] = [.. values.Where(v => v is not null).Select(v => v!)];
            }
        }

        if (name.Length == 0)
        {
            if (groups.Count > 0 || uid.Length > 0 || extra.Count > 0)
            {
                throw StatusError.BadRequest($"requested impersonation of groups, uid or extra without impersonating a user");
            }

            return user;
        }

        if (name.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal) && name[ServiceAccountPrefix.Length..].Split(':') is [{ Length: > 0 } saNamespace, { Length: > 0 } saName])
        {
            Check(user, authorizer, new RequestInfo(true, "impersonate", string.Empty, string.Empty, "serviceaccounts", string.Empty, saNamespace, saName));
            if (groups.Count == 0)
            {
                groups = ["system:serviceaccounts", $"system:serviceaccounts:{saNamespace}"];
            }
        }
        else
        {
            Check(user, authorizer, new RequestInfo(true, "impersonate", string.Empty, string.Empty, "users", string.Empty, string.Empty, name));
        }

        foreach (var group in groups.Distinct(StringComparer.Ordinal).ToList())
        {
            if (!headers[GroupHeader].Contains(group))
            {
                continue; // a service account's own groups come with it
            }

            Check(user, authorizer, new RequestInfo(true, "impersonate", string.Empty, string.Empty, "groups", string.Empty, string.Empty, group));
        }

        if (uid.Length > 0)
        {
            Check(user, authorizer, new RequestInfo(true, "impersonate", string.Empty, AuthenticationGroup, "uids", string.Empty, string.Empty, uid));
        }

        foreach (var (key, values) in extra)
        {
            foreach (var value in values)
            {
                Check(user, authorizer, new RequestInfo(true, "impersonate", string.Empty, AuthenticationGroup, "userextras", key, string.Empty, value));
            }
        }

        // Everyone but the anonymous user is authenticated, unless the caller asked for the unauthenticated group.
        if (name != UserInfo.Anonymous && !groups.Contains(UserInfo.AuthenticatedGroup) && !groups.Contains(UserInfo.UnauthenticatedGroup))
        {
            groups.Add(UserInfo.AuthenticatedGroup);
        }

        return new UserInfo(name, groups) { Uid = uid, Extra = extra };
    }

    private static void Check(UserInfo user, RequestAuthorizer authorizer, RequestInfo request)
    {
        var decision = authorizer.Authorize(user, request);
        if (!decision.Allowed)
        {
            throw RequestAuthorizer.Forbidden(user, request, decision.Reason);
        }
    }

    private static bool AnyImpersonationHeader(IHeaderDictionary headers)
    {
        foreach (var (header, _) in headers)
        {
            if (header.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
