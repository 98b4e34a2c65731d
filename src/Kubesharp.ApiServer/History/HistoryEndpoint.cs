using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.FlowControl;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.History;

/// <summary>
/// Object history over HTTP. <c>GET …/NAME/history</c> on any resource lists the object's revisions (also after it
/// was deleted); <c>?revision=R</c> or <c>?at=TIME</c> answers the object as it was then. Both are authorized as a
/// <c>get</c> of the object itself. <c>GET /apis/history.kubesharp.io/v1/[namespaces/NS/]deletedobjects</c> lists
/// deleted objects, each only when the caller may <c>get</c> it. That list is read by <c>kubectl history --deleted</c>,
/// and published in discovery with a Table form, so that <c>kubectl get deletedobjects</c> prints it too.
/// </summary>
internal sealed class HistoryEndpoint(ResourceRegistry registry, RequestAuthorizer authorizer)
{
    public const string Group = "history.kubesharp.io";
    public const string Version = "v1";
    public const string Subresource = "history";
    public const string DeletedObjects = "deletedobjects";
    private const string ApiVersion = Group + "/" + Version;

    /// <summary>What discovery publishes while history is kept: the deleted list, namespaced, list only.</summary>
    public static IReadOnlyList<Kubesharp.ApiMachinery.Discovery.ApiResource> Resources { get; } =
    [
        new Kubesharp.ApiMachinery.Discovery.ApiResource
        {
            Group = Group, Version = Version, Resource = DeletedObjects, Kind = "DeletedObject", ListKind = "DeletedObjectList",
            SingularName = "deletedobject", Namespaced = true, Verbs = ["list"], DefinitionName = "io.kubesharp.history.v1.DeletedObject",
        },
    ];

    public static bool Handles(ResourceRequest request) => request.Subresource == Subresource && request.Name is not null;

    private ObjectHistory History(string what) =>
        registry.History ?? throw new StatusError(404, "NotFound", $"this server keeps no {what} (start it with --history-retention, e.g. 7d)");

    /// <summary>GET …/NAME/history[?revision=R | ?at=TIME].</summary>
    public async Task HandleObjectAsync(HttpContext context, ResourceRequest request)
    {
        if (!HttpMethods.IsGet(context.Request.Method) || request.LegacyWatch || context.Request.Query.ContainsKey("watch"))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        var resource = request.Resource;
        var history = History("object history");
        if (!history.Keeps(resource))
        {
            throw new StatusError(404, "NotFound", $"the server keeps no history of {resource.GroupResource}", request.Name, resource.Group, resource.Resource);
        }

        var name = request.Name!;
        var key = WatchCache.Key(resource, request.Namespace, name);
        var records = await history.ReadAsync(key, resource.Namespaced ? request.Namespace : null, context.RequestAborted).ConfigureAwait(false);
        var query = context.Request.Query;
        if (query.ContainsKey("revision") || query.ContainsKey("at"))
        {
            Func<JsonObject, bool> before;
            string when;
            if (query.ContainsKey("revision"))
            {
                if (!long.TryParse(query["revision"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var revision) || revision <= 0)
                {
                    throw StatusError.BadRequest($"revision \"{query["revision"]}\" is not a positive integer");
                }

                before = r => ((long?)r["revision"] ?? 0) <= revision;
                when = $"at revision {revision}";
            }
            else
            {
                var text = query["at"].ToString();
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
                {
                    throw StatusError.BadRequest($"at \"{text}\" is not a time in RFC 3339 form, e.g. 2006-01-02T15:04:05Z");
                }

                before = r => DateTimeOffset.Parse((string)r["time"]!, CultureInfo.InvariantCulture) <= at;
                when = "at " + at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            }

            var then = records.LastOrDefault(before);
            if (then is null || (string?)then["type"] == HistoryChange.Deleted || then["object"] is not JsonObject obj)
            {
                throw new StatusError(404, "NotFound", $"{StatusError.Qualified(resource.Resource, resource.Group)} \"{name}\" did not exist {when} (or its history was pruned)", name, resource.Group, resource.Resource);
            }

            var presented = await registry.DefinitionOf(resource).PresentAsync(CachedObject.FromNode(key, obj, (long?)then["revision"] ?? 0), context.RequestAborted).ConfigureAwait(false);
            await JsonResponses.WriteRawAsync(context, 200, presented.Json).ConfigureAwait(false);
            return;
        }

        if (records.Count == 0)
        {
            throw StatusError.NotFound(resource.Resource, resource.Group, name);
        }

        await PresentAllAsync(resource, key, records, context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, 200, new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = "RevisionList",
            ["metadata"] = new JsonObject(),
            ["items"] = new JsonArray([.. records]),
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The revisions' objects in the version the request names, as a GET of that version serves them: the store holds
    /// each revision in the version it was stored in, and a resource with several versions converts it (a custom
    /// resource's conversion webhook once for the whole list).
    /// </summary>
    private async Task PresentAllAsync(Kubesharp.ApiMachinery.Discovery.ApiResource resource, string key, List<JsonObject> records, CancellationToken cancellationToken)
    {
        var definition = registry.DefinitionOf(resource);
        if (!definition.Converts)
        {
            return;
        }

        var withObjects = records.Where(r => r["object"] is JsonObject).ToList();
        var stored = withObjects.ConvertAll(r => CachedObject.FromNode(key, (JsonObject)r["object"]!, (long?)r["revision"] ?? 0));
        var presented = await definition.PresentAllAsync(stored, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < withObjects.Count; i++)
        {
            withObjects[i]["object"] = presented[i].ToNode();
        }
    }

    /// <param name="rest">The path after /apis/history.kubesharp.io/VERSION/.</param>
    public async Task HandleDeletedAsync(HttpContext context, string version, string[] rest)
    {
        string? @namespace;
        if (version == Version && rest is [DeletedObjects])
        {
            @namespace = null;
        }
        else if (version == Version && rest is ["namespaces", var inNamespace, DeletedObjects])
        {
            @namespace = inNamespace;
        }
        else
        {
            throw StatusError.PathNotFound();
        }

        if (!HttpMethods.IsGet(context.Request.Method) || context.Request.Query.ContainsKey("watch"))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        var user = (UserInfo)context.Items[VirtualResources.UserItem]!;
        var deletions = await History("history of deleted objects").DeletionsAsync(@namespace, context.RequestAborted).ConfigureAwait(false);
        var items = new JsonArray();
        // Newest first, one entry per object; an object created again since is no longer deleted.
        foreach (var deletion in deletions.AsEnumerable().Reverse().DistinctBy(d => (string?)d["storageKey"], StringComparer.Ordinal))
        {
            if ((string?)deletion["storageKey"] is not { } storageKey || registry.FindByGroupResource(GroupResourceOf(storageKey)) is not { } resource)
            {
                continue;
            }

            var name = (string)deletion["name"]!;
            var objectNamespace = (string?)deletion["namespace"];
            if (registry.Get(resource, objectNamespace, name) is not null)
            {
                continue;
            }

            var asked = new RequestInfo(true, "get", context.Request.Path, resource.Group, resource.Resource, string.Empty, objectNamespace ?? string.Empty, name);
            if (!authorizer.Authorize(user, asked).Allowed)
            {
                continue;
            }

            deletion.Remove("storageKey");
            items.Add((JsonNode)deletion);
        }

        if (MediaTypes.Negotiate(context.Request) == ResponseForm.Table)
        {
            await JsonResponses.WriteAsync(context, 200, DeletedTable(items)).ConfigureAwait(false);
            return;
        }

        await JsonResponses.WriteAsync(context, 200, new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = "DeletedObjectList",
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        }).ConfigureAwait(false);
    }

    /// <summary>The deleted list as meta.k8s.io/v1 Table, as <c>kubectl get</c> asks for it; the time is printed as it is, exact.</summary>
    private static JsonObject DeletedTable(JsonArray items)
    {
        var rows = new JsonArray();
        foreach (var item in items.OfType<JsonObject>())
        {
            var metadata = new JsonObject { ["name"] = (string?)item["name"] };
            if ((string?)item["namespace"] is { } itemNamespace)
            {
                metadata["namespace"] = itemNamespace;
            }

            rows.Add((JsonNode)new JsonObject
            {
                ["cells"] = new JsonArray((string?)item["name"], (string?)item["kind"], (string?)item["time"], (string?)item["user"], (long?)item["revision"]),
                ["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = metadata },
            });
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject(),
            ["columnDefinitions"] = new JsonArray(
                Column("Name", "string", "name", "The deleted object's name."),
                Column("Kind", "string", string.Empty, "The deleted object's kind."),
                Column("Deleted", "string", string.Empty, "When it was deleted."),
                Column("User", "string", string.Empty, "Who deleted it."),
                Column("Revision", "integer", string.Empty, "The store revision of the deletion.")),
            ["rows"] = rows,
        };
    }

    private static JsonObject Column(string name, string type, string format, string description) =>
        new() { ["name"] = name, ["type"] = type, ["format"] = format, ["description"] = description, ["priority"] = 0 };

    private static string GroupResourceOf(string storageKey)
    {
        var rest = storageKey[WatchCache.RegistryPrefix.Length..];
        return rest[..rest.IndexOf('/', StringComparison.Ordinal)];
    }
}
