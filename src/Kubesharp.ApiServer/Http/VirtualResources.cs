using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Create-only resources that are answered, not stored: access and identity reviews (every authenticated user
/// may do everything) and the legacy bindings collection.
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
        switch (request.Resource.Resource)
        {
            case "selfsubjectaccessreviews" or "subjectaccessreviews" or "localsubjectaccessreviews":
                body["status"] = new JsonObject { ["allowed"] = true, ["reason"] = "every authenticated user is allowed" };
                break;
            case "selfsubjectrulesreviews" or "subjectrulesreviews":
                body["status"] = new JsonObject
                {
                    ["resourceRules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") }),
                    ["nonResourceRules"] = new JsonArray(new JsonObject { ["verbs"] = new JsonArray("*"), ["nonResourceURLs"] = new JsonArray("*") }),
                    ["incomplete"] = false,
                };
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

    internal static JsonObject UserNode(UserInfo? user)
    {
        var node = new JsonObject { ["username"] = user?.Name ?? "system:anonymous" };
        if (user?.Uid is { Length: > 0 } uid)
        {
            node["uid"] = uid;
        }

        node["groups"] = new JsonArray((user?.Groups ?? []).Select(g => (JsonNode)JsonValue.Create(g)!).ToArray());
        if (user?.Extra is { Count: > 0 } extra)
        {
            node["extra"] = new JsonObject(extra.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)new JsonArray([.. e.Value.Select(v => (JsonNode)JsonValue.Create(v))]))));
        }

        return node;
    }
}
