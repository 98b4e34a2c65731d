using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Create-only resources that are answered, not stored: access reviews (asked of the authorization stage), the
/// rules review (the RBAC rules that apply), identity reviews and the legacy bindings collection.
/// </summary>
internal static class VirtualResources
{
    public const string UserItem = "kubesharp.user";

    public static async Task HandleAsync(HttpContext context, ResourceRequest request, ResourceRegistry registry)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || request.Name is not null)
        {
            throw new StatusError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource");
        }

        var body = await RequestBody.ReadObjectAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        var user = context.Items[UserItem] as UserInfo;
        body["apiVersion"] ??= request.Resource.ApiVersion;
        body["kind"] ??= request.Resource.Kind;
        body["metadata"] ??= new JsonObject();
        var spec = body["spec"] as JsonObject ?? [];
        switch (request.Resource.Resource)
        {
            case "selfsubjectaccessreviews":
                body["status"] = Review(registry, user ?? Anonymous, spec, null);
                break;
            case "subjectaccessreviews":
                body["status"] = Review(registry, SubjectOf(spec), spec, null);
                break;
            case "localsubjectaccessreviews":
                body["status"] = Review(registry, SubjectOf(spec), spec, request.Namespace ?? string.Empty);
                break;
            case "selfsubjectrulesreviews":
                body["status"] = Rules(registry, user ?? Anonymous, (string?)spec["namespace"] ?? string.Empty);
                break;
            case "selfsubjectreviews":
                body["status"] = new JsonObject { ["userInfo"] = UserNode(user) };
                break;
            case "tokenreviews":
                body["status"] = Security.TokenReview.Status(body, registry);
                break;
            default:
                throw new StatusError(405, "MethodNotAllowed", $"create is not supported on resources of kind \"{StatusError.Qualified(request.Resource.Resource, request.Resource.Group)}\"");
        }

        await JsonResponses.WriteAsync(context, StatusCodes.Status201Created, body).ConfigureAwait(false);
    }

    private static readonly UserInfo Anonymous = new(UserInfo.Anonymous, [UserInfo.UnauthenticatedGroup]);

    private static UserInfo SubjectOf(JsonObject spec)
    {
        var name = (string?)spec["user"] ?? string.Empty;
        var groups = (spec["groups"] as JsonArray)?.Select(g => (string?)g).OfType<string>().ToList() ?? [];
        if (name.Length == 0 && groups.Count == 0)
        {
            throw Invalid("SubjectAccessReview", "spec.user", "at least one of user or group must be specified");
        }

        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (spec["extra"] is JsonObject given)
        {
            foreach (var (key, values) in given)
            {
                extra[key] = (values as JsonArray)?.Select(v => (string?)v).OfType<string>().ToList() ?? [];
            }
        }

        return new UserInfo(name, groups) { Uid = (string?)spec["uid"] ?? string.Empty, Extra = extra };
    }

    /// <summary>The status of an access review: whether the user may do what spec.resourceAttributes or spec.nonResourceAttributes describe.</summary>
    private static JsonObject Review(ResourceRegistry registry, UserInfo user, JsonObject spec, string? localNamespace)
    {
        RequestInfo attributes;
        if (spec["resourceAttributes"] is JsonObject resource)
        {
            var ns = (string?)resource["namespace"] ?? string.Empty;
            if (localNamespace is not null)
            {
                if (ns.Length > 0 && ns != localNamespace)
                {
                    throw StatusError.BadRequest($"spec.resourceAttributes.namespace must match namespace: {localNamespace}");
                }

                ns = localNamespace;
            }

            attributes = new RequestInfo(true, (string?)resource["verb"] ?? string.Empty, string.Empty, (string?)resource["group"] ?? string.Empty,
                (string?)resource["resource"] ?? string.Empty, (string?)resource["subresource"] ?? string.Empty, ns, (string?)resource["name"] ?? string.Empty);
        }
        else if (spec["nonResourceAttributes"] is JsonObject nonResource && localNamespace is null)
        {
            attributes = new RequestInfo(false, (string?)nonResource["verb"] ?? string.Empty, (string?)nonResource["path"] ?? string.Empty);
        }
        else
        {
            throw Invalid("SubjectAccessReview", "spec.resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes must be specified");
        }

        var decision = registry.Authorizer?.Authorize(user, attributes) ?? AuthorizationDecision.Allow();
        var status = new JsonObject { ["allowed"] = decision.Allowed };
        if (decision.Reason.Length > 0)
        {
            status["reason"] = decision.Reason;
        }

        return status;
    }

    /// <summary>The rules review: the RBAC rules that apply to the user in the namespace (and the node's when it is a node).</summary>
    private static JsonObject Rules(ResourceRegistry registry, UserInfo user, string @namespace)
    {
        if (@namespace.Length == 0)
        {
            throw Invalid("SelfSubjectRulesReview", "spec.namespace", "Required value");
        }

        var rules = registry.Authorizer?.Rbac?.RulesFor(user, @namespace) ?? [];
        var resourceRules = new JsonArray();
        var nonResourceRules = new JsonArray();
        foreach (var rule in rules)
        {
            var json = rule.ToJson();
            if (rule.NonResourceUrls.Count > 0)
            {
                nonResourceRules.Add((JsonNode?)new JsonObject { ["verbs"] = json["verbs"]!.DeepClone(), ["nonResourceURLs"] = json["nonResourceURLs"]!.DeepClone() });
            }

            if (rule.Resources.Count > 0)
            {
                json.Remove("nonResourceURLs");
                resourceRules.Add((JsonNode?)json);
            }
        }

        return new JsonObject { ["resourceRules"] = resourceRules, ["nonResourceRules"] = nonResourceRules, ["incomplete"] = false };
    }

    private static StatusError Invalid(string kind, string field, string message) =>
        StatusError.Invalid(kind, "authorization.k8s.io", string.Empty, [new StatusCause("FieldValueRequired", message, field)]);

    internal static JsonObject UserNode(UserInfo? user)
    {
        var node = new JsonObject { ["username"] = user?.Name ?? UserInfo.Anonymous };
        if (user is { Uid.Length: > 0 })
        {
            node["uid"] = user.Uid;
        }

        node["groups"] = new JsonArray((user?.Groups ?? []).Select(g => (JsonNode)JsonValue.Create(g)!).ToArray());

        if (user is { Extra.Count: > 0 })
        {
            var extra = new JsonObject();
            foreach (var (key, values) in user.Extra)
            {
                extra[key] = new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);
            }

            node["extra"] = extra;
        }

        return node;
    }
}
