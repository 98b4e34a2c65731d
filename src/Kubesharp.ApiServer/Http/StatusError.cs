using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Http;

/// <summary>One cause of a failure: a field path and what is wrong with it.</summary>
internal sealed record StatusCause(string Reason, string Message, string? Field);

/// <summary>An expected failure answered as a Kubernetes Status object.</summary>
internal sealed class StatusError : Exception
{
    public StatusError(int code, string reason, string message, string? name = null, string? group = null, string? kind = null, IReadOnlyList<StatusCause>? causes = null, int? retryAfterSeconds = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Name = name;
        Group = group;
        Kind = kind;
        Causes = causes ?? [];
        RetryAfterSeconds = retryAfterSeconds;
    }

    public int Code { get; }

    public string Reason { get; }

    public string? Name { get; }

    public string? Group { get; }

    public string? Kind { get; }

    public IReadOnlyList<StatusCause> Causes { get; }

    public int? RetryAfterSeconds { get; }

    public static string Qualified(string resource, string group) => group.Length == 0 ? resource : $"{resource}.{group}";

    public static StatusError NotFound(string resource, string group, string name) =>
        new(404, "NotFound", $"{Qualified(resource, group)} \"{name}\" not found", name, group, resource);

    public static StatusError AlreadyExists(string resource, string group, string name) =>
        new(409, "AlreadyExists", $"{Qualified(resource, group)} \"{name}\" already exists", name, group, resource);

    public static StatusError Conflict(string resource, string group, string name, string detail = "the object has been modified; please apply your changes to the latest version and try again") =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(resource, group)} \"{name}\": {detail}", name, group, resource);

    public static StatusError Invalid(string kind, string group, string name, IReadOnlyList<StatusCause> causes)
    {
        var summary = causes.Count == 1
            ? Describe(causes[0])
            : "[" + string.Join(", ", causes.Select(Describe)) + "]";
        return new(422, "Invalid", $"{Qualified(kind, group)} \"{name}\" is invalid: {summary}", name, group, kind, causes);

        static string Describe(StatusCause cause) => cause.Field is null ? cause.Message : $"{cause.Field}: {cause.Message}";
    }

    public static StatusError BadRequest(string message) => new(400, "BadRequest", message);

    public static StatusError Gone(string message) => new(410, "Gone", message);

    public static StatusError Expired(string message) => new(410, "Expired", message);

    public static StatusError MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static StatusError PathNotFound() => new(404, "NotFound", "the server could not find the requested resource");

    public static StatusError Forbidden(string resource, string group, string name, string detail, IReadOnlyList<StatusCause>? causes = null) =>
        new(403, "Forbidden", $"{Qualified(resource, group)} \"{name}\" is forbidden: {detail}", name, group, resource, causes);

    public static StatusError UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {contentType})");

    public static StatusError TooLarge() => new(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");

    /// <summary>An object the store refuses for its size: the client's request, not the server, is at fault.</summary>
    public static StatusError StoredObjectTooLarge(int size, int limit) =>
        new(413, "RequestEntityTooLarge", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Request entity too large: the object is {size} bytes, more than the {limit} bytes the store accepts"));

    public static StatusError NotAcceptable(string message) => new(406, "NotAcceptable", message);

    /// <summary>One object whose stored value cannot be read: upstream's storage error for a corrupt object.</summary>
    public static StatusError CorruptObject(Caching.CorruptObject corrupt) =>
        new(500, "InternalError", $"Internal error occurred: {StorageErrorText(corrupt)}");

    /// <summary>
    /// A list or watch that reaches unreadable objects (StorageReadError): each one's key is a cause, so an
    /// administrator learns what to delete with ignoreStoreReadErrorWithClusterBreakingPotential.
    /// </summary>
    public static StatusError StoreReadError(string resource, string group, string prefix, IEnumerable<Caching.CorruptObject> corrupt) =>
        new(500, "StorageReadError", $"failed to read one or more {Qualified(resource, group)} from the storage", prefix, group, resource,
            [.. corrupt.Take(100).Select(c => new StatusCause("UnexpectedServerResponse", StorageErrorText(c), c.Key))]);

    private static string StorageErrorText(Caching.CorruptObject corrupt) =>
        $"StorageError: corrupt object, Code: 7, Key: {corrupt.Key}, ResourceVersion: 0, AdditionalErrorMsg: {corrupt.Reason}";

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
        };
        if (Reason.Length > 0)
        {
            // An unknown reason is left out, as upstream's omitempty does.
            status["reason"] = Reason;
        }

        if (Name is not null || Kind is not null || Causes.Count > 0 || RetryAfterSeconds is not null)
        {
            var details = new JsonObject();
            if (Name is not null)
            {
                details["name"] = Name;
            }

            if (!string.IsNullOrEmpty(Group))
            {
                details["group"] = Group;
            }

            if (Kind is not null)
            {
                details["kind"] = Kind;
            }

            if (Causes.Count > 0)
            {
                var causes = new JsonArray();
                foreach (var cause in Causes)
                {
                    // Empty fields are left out, as upstream's omitempty does.
                    var c = new JsonObject();
                    if (cause.Reason.Length > 0)
                    {
                        c["reason"] = cause.Reason;
                    }

                    c["message"] = cause.Message;
                    if (cause.Field is not null)
                    {
                        c["field"] = cause.Field;
                    }

                    causes.Add((JsonNode?)c);
                }

                details["causes"] = causes;
            }

            if (RetryAfterSeconds is not null)
            {
                details["retryAfterSeconds"] = RetryAfterSeconds;
            }

            status["details"] = details;
        }

        status["code"] = Code;
        return status;
    }
}
