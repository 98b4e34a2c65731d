using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Admission.Cel;

/// <summary>
/// The AdmissionRequest of a write as webhooks receive it in an AdmissionReview and as CEL expressions read it
/// through <c>request</c> (kind, resource, subresource, name, namespace, operation, user, dry run and options).
/// </summary>
internal static class AdmissionRequest
{
    /// <summary>The request's fields; <paramref name="uid"/> is set for webhook calls, <paramref name="withObjects"/> adds object and oldObject.</summary>
    public static JsonObject Build(AdmissionAttributes attributes, string? uid, bool withObjects)
    {
        var resource = attributes.Resource;
        var kind = new JsonObject { ["group"] = attributes.Kind.Group, ["version"] = attributes.Kind.Version, ["kind"] = attributes.Kind.Kind };
        var gvr = new JsonObject { ["group"] = resource.Group, ["version"] = resource.Version, ["resource"] = resource.Resource };
        var request = new JsonObject();
        if (uid is not null)
        {
            request["uid"] = uid;
        }

        request["kind"] = kind;
        request["resource"] = gvr;
        request["requestKind"] = kind.DeepClone();
        request["requestResource"] = gvr.DeepClone();
        if (attributes.Subresource.Length > 0)
        {
            request["subResource"] = attributes.Subresource;
            request["requestSubResource"] = attributes.Subresource;
        }

        if (attributes.Name.Length > 0)
        {
            request["name"] = attributes.Name;
        }

        if (attributes.Namespace.Length > 0)
        {
            request["namespace"] = attributes.Namespace;
        }

        request["operation"] = attributes.OperationName;
        var user = new JsonObject { ["username"] = attributes.User.Name };
        if (attributes.User.Uid.Length > 0)
        {
            user["uid"] = attributes.User.Uid;
        }

        user["groups"] = new JsonArray(attributes.User.Groups.Select(g => (JsonNode?)g).ToArray());
        if (attributes.User.Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (key, values) in attributes.User.Extra)
            {
                extra[key] = new JsonArray(values.Select(v => (JsonNode?)v).ToArray());
            }

            user["extra"] = extra;
        }

        request["userInfo"] = user;
        if (withObjects)
        {
            request["object"] = attributes.Object?.DeepClone();
            request["oldObject"] = attributes.OldObject?.DeepClone();
        }

        request["dryRun"] = attributes.DryRun;
        request["options"] = attributes.Options?.DeepClone();
        return request;
    }
}
