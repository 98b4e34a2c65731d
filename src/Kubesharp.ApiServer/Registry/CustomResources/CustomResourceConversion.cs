using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Validation;
using Kubesharp.ApiServer.Admission.Webhooks;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.CustomResources;

/// <summary>
/// How the versions of one CustomResourceDefinition turn into each other. Strategy None rewrites apiVersion; strategy
/// Webhook posts an apiextensions.k8s.io ConversionReview with the objects not yet in the desired version and takes
/// response.convertedObjects after upstream's checks (uid, result, count, apiVersion, kind, name, namespace, uid); only
/// labels and annotations of the converted objects are kept from their metadata. Converted objects are pruned by the
/// desired version's schema, as upstream's decoder does. Failures are 500s worded as upstream's.
/// </summary>
internal sealed class CustomResourceConversion
{
    // Upstream calls conversion webhooks with a fixed 30 s timeout.
    private static readonly TimeSpan WebhookTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, CustomResourceSchema?> _schemas;
    private readonly WebhookClient? _client;

    private CustomResourceConversion(string group, string kind, string listKind, string storageVersion, Dictionary<string, CustomResourceSchema?> schemas, WebhookClient? client)
    {
        Kind = kind;
        ListKind = listKind;
        StorageApiVersion = group + "/" + storageVersion;
        _schemas = schemas;
        _client = client;
    }

    public string Kind { get; }

    public string ListKind { get; }

    public string StorageApiVersion { get; }

    /// <summary>Where the webhook is posted (the URL, or https://NAME.NAMESPACE.svc:PORT/PATH); null under strategy None.</summary>
    public Uri? WebhookAddress { get; private init; }

    /// <summary>PEM certificates the webhook's serving certificate must chain to; empty for the system's roots.</summary>
    public string CaBundle { get; private init; } = string.Empty;

    /// <summary>The ConversionReview version sent: the first of conversionReviewVersions this server speaks.</summary>
    public string? ReviewVersion { get; private init; }

    public bool ByWebhook => WebhookAddress is not null;

    /// <summary>The conversion a CustomResourceDefinition's spec names; <paramref name="schemas"/> maps version names to their schemas.</summary>
    public static CustomResourceConversion FromSpec(JsonObject spec, string storageVersion, Dictionary<string, CustomResourceSchema?> schemas, WebhookClient client)
    {
        var group = (string?)spec["group"] ?? string.Empty;
        var kind = (string?)spec["names"]?["kind"] ?? string.Empty;
        var listKind = (string?)spec["names"]?["listKind"] is { Length: > 0 } l ? l : kind + "List";
        var byApiVersion = schemas.ToDictionary(s => group + "/" + s.Key, s => s.Value, StringComparer.Ordinal);
        var conversion = spec["conversion"] as JsonObject;
        if ((string?)conversion?["strategy"] != "Webhook" || conversion?["webhook"] is not JsonObject webhook)
        {
            return new CustomResourceConversion(group, kind, listKind, storageVersion, byApiVersion, null);
        }

        var config = webhook["clientConfig"] as JsonObject ?? [];
        Uri? address = null;
        if ((string?)config["url"] is { Length: > 0 } url && Uri.TryCreate(url, UriKind.Absolute, out var parsed))
        {
            address = parsed;
        }
        else if (config["service"] is JsonObject service)
        {
            var port = JsonNumber.Int64(service["port"]) ?? 443;
            var path = (string?)service["path"] is { Length: > 0 } p ? p : "/";
            address = new Uri($"https://{(string?)service["name"]}.{(string?)service["namespace"]}.svc:{port}{path}");
        }

        var caBundle = string.Empty;
        if ((string?)config["caBundle"] is { Length: > 0 } encoded)
        {
            try
            {
                caBundle = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                caBundle = string.Empty;
            }
        }

        var reviewVersion = (webhook["conversionReviewVersions"] as JsonArray)?.Select(v => (string?)v).FirstOrDefault(v => v is "v1" or "v1beta1");
        return new CustomResourceConversion(group, kind, listKind, storageVersion, byApiVersion, client)
        {
            // An address the webhook cannot be reached at still converts by webhook: every call fails, as upstream's.
            WebhookAddress = address ?? new Uri("https://invalid.invalid/"),
            CaBundle = caBundle,
            ReviewVersion = reviewVersion,
        };
    }

    /// <summary>
    /// <paramref name="objects"/> in <paramref name="desiredApiVersion"/>: the same list, with the objects that were in
    /// another version replaced by converted copies. <paramref name="list"/> says whether the objects are a list's
    /// items (one review for all of them, upstream's list wording in errors).
    /// </summary>
    public async Task<List<JsonObject>> ConvertAsync(List<JsonObject> objects, string desiredApiVersion, bool list, CancellationToken cancellationToken)
    {
        var pending = new List<int>();
        for (var i = 0; i < objects.Count; i++)
        {
            if ((string?)objects[i]["apiVersion"] != desiredApiVersion)
            {
                pending.Add(i);
            }
        }

        if (pending.Count == 0)
        {
            return objects;
        }

        var result = new List<JsonObject>(objects);
        if (!ByWebhook)
        {
            foreach (var i in pending)
            {
                var copy = objects[i].DeepClone().AsObject();
                copy["apiVersion"] = desiredApiVersion;
                result[i] = copy;
            }

            return result;
        }

        var first = objects[pending[0]];
        var gvk = $"{(string?)first["apiVersion"]}, Kind={(list ? ListKind : (string?)first["kind"] ?? Kind)}";
        var converted = await CallAsync(pending.ConvertAll(i => objects[i]), desiredApiVersion, gvk, cancellationToken).ConfigureAwait(false);
        if (converted.Count != pending.Count)
        {
            throw Failed($"conversion webhook for {gvk} returned {converted.Count} objects, expected {pending.Count}");
        }

        _schemas.TryGetValue(desiredApiVersion, out var schema);
        for (var n = 0; n < pending.Count; n++)
        {
            var original = objects[pending[n]];
            var what = list ? $"invalid converted object at index {n}" : "invalid object";
            if (converted[n] is not JsonObject obj)
            {
                throw Failed($"conversion webhook for {gvk} returned {what}: expected an object, got {GoType(converted[n])}");
            }

            obj = obj.DeepClone().AsObject();
            var apiVersion = (string?)obj["apiVersion"] ?? string.Empty;
            if (apiVersion != desiredApiVersion)
            {
                throw Failed($"conversion webhook for {gvk} returned {(list ? $"invalid converted object at index {n}" : "invalid object at index 0")}: invalid groupVersion (expected {desiredApiVersion}, received {apiVersion})");
            }

            if ((string?)obj["kind"] != (string?)original["kind"])
            {
                throw Failed($"conversion webhook for {gvk} returned {(list ? $"invalid converted object at index {n}" : "invalid object at index 0")}: invalid kind (expected {(string?)original["kind"]}, received {(string?)obj["kind"]})");
            }

            if (Unchanged(original, obj) is { } changed)
            {
                throw Failed($"conversion webhook for {gvk} returned {what}: {changed}");
            }

            if (RestoreMetadata(original, obj) is { } invalid)
            {
                throw Failed($"conversion webhook for {gvk} returned {(list ? $"invalid metadata in object at index {n}" : "invalid metadata")}: {invalid}");
            }

            schema?.Prune(obj, remove: true);
            result[pending[n]] = obj;
        }

        return result;
    }

    private async Task<JsonArray> CallAsync(List<JsonObject> objects, string desiredApiVersion, string gvk, CancellationToken cancellationToken)
    {
        if (ReviewVersion is null)
        {
            throw Failed("no supported conversion review versions");
        }

        var uid = Guid.NewGuid().ToString();
        var reviewApiVersion = "apiextensions.k8s.io/" + ReviewVersion;
        var review = new JsonObject
        {
            ["kind"] = "ConversionReview",
            ["apiVersion"] = reviewApiVersion,
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["desiredAPIVersion"] = desiredApiVersion,
                ["objects"] = new JsonArray(objects.Select(o => (JsonNode)o.DeepClone()).ToArray()),
            },
        };

        JsonNode? answer;
        try
        {
            answer = await _client!.PostAsync(WebhookAddress!, CaBundle, WebhookTimeout, review, cancellationToken).ConfigureAwait(false);
        }
        catch (WebhookCallException e)
        {
            throw Failed($"conversion webhook for {gvk} failed: {e.Message}");
        }
        catch (JsonException e)
        {
            throw Failed($"conversion webhook for {gvk} failed: {e.Message}");
        }

        var reviewAnswer = answer as JsonObject;
        string? problem = null;
        var response = reviewAnswer?["response"] as JsonObject;
        if (ReviewVersion == "v1" && ((string?)reviewAnswer?["apiVersion"] != reviewApiVersion || (string?)reviewAnswer?["kind"] != "ConversionReview"))
        {
            // v1beta1 answers were never checked for their kind or uid; upstream keeps it that way.
            problem = $"expected webhook response of {reviewApiVersion}, Kind=ConversionReview, got {(string?)reviewAnswer?["apiVersion"]}, Kind={(string?)reviewAnswer?["kind"]}";
        }
        else if (response is null)
        {
            problem = "no response provided";
        }
        else if (ReviewVersion == "v1" && (string?)response["uid"] != uid)
        {
            problem = $"expected response.uid=\"{uid}\", got \"{(string?)response["uid"]}\"";
        }
        else if ((string?)response["result"]?["status"] is var status && status != "Success")
        {
            problem = (string?)response["result"]?["message"] is { Length: > 0 } message ? message : $"response.result.status was '{status}', not 'Success'";
        }

        if (problem is not null)
        {
            throw Failed($"conversion webhook for {gvk} failed: {problem}");
        }

        return response!["convertedObjects"] as JsonArray ?? [];
    }

    /// <summary>Kind, name, namespace and uid must come back as they were sent.</summary>
    private static string? Unchanged(JsonObject original, JsonObject converted)
    {
        foreach (var (field, what) in new[] { ("name", "name"), ("namespace", "namespace"), ("uid", "UID") })
        {
            var before = (string?)original["metadata"]?[field] ?? string.Empty;
            var after = converted["metadata"] is JsonObject meta && meta[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty;
            if (before != after)
            {
                return $"must have the same {what}: {before} != {after}";
            }
        }

        return null;
    }

    /// <summary>The original metadata with the converted object's labels and annotations (validated when they changed).</summary>
    private static string? RestoreMetadata(JsonObject original, JsonObject converted)
    {
        if (converted["metadata"] is not { } node)
        {
            return "missing metadata in converted object";
        }

        if (node is not JsonObject answered)
        {
            return $"invalid metadata of type {GoType(node)} in converted object";
        }

        var restored = original["metadata"]?.DeepClone() as JsonObject ?? [];
        foreach (var field in new[] { "labels", "annotations" })
        {
            if (answered[field] is not { } value)
            {
                restored.Remove(field);
                continue;
            }

            if (value is not JsonObject map)
            {
                return $"invalid metadata.{field} of type {GoType(value)} in converted object";
            }

            foreach (var (key, entry) in map)
            {
                if (entry is not JsonValue text || text.GetValueKind() != JsonValueKind.String)
                {
                    return $"metadata.{field}[{key}] must be a string, but is {GoType(entry)} in converted object";
                }
            }

            if (!JsonNode.DeepEquals(map, restored[field]))
            {
                var errors = field == "labels"
                    ? ObjectMetaValidation.ValidateLabels(map, FieldPath.Root("metadata", "labels"))
                    : ObjectMetaValidation.ValidateAnnotations(map, FieldPath.Root("metadata", "annotation"));
                if (errors.Count > 0)
                {
                    return FieldError.Aggregate(errors);
                }
            }

            restored[field] = map.DeepClone();
        }

        converted["metadata"] = restored;
        return null;
    }

    /// <summary>How Go names the type of a decoded JSON value (upstream's messages print it).</summary>
    private static string GoType(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "<nil>",
        JsonValueKind.String => "string",
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Number => node.AsValue().TryGetValue(out long _) ? "int64" : "float64",
        JsonValueKind.Array => "[]interface {}",
        _ => "map[string]interface {}",
    };

    /// <summary>Upstream answers a failed conversion as an error without a reason: 500 and the message.</summary>
    private static StatusError Failed(string message) => new(500, string.Empty, message);
}
