using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kubesharp.ApiMachinery.Errors;

/// <summary>
/// An expected API failure carrying the Kubernetes Status the client receives (upstream's StatusError).
/// The factories produce upstream's codes, reasons and messages exactly.
/// </summary>
public sealed class StatusException : Exception
{
    /// <summary>The text of the optimistic-concurrency conflict (update with a stale resourceVersion).</summary>
    public const string OptimisticLockMessage = "the object has been modified; please apply your changes to the latest version and try again";

    public StatusException(int code, string reason, string message, StatusDetails? details = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    /// <summary>The HTTP status code of the response.</summary>
    public int Code { get; }

    /// <summary>One of <see cref="StatusReason"/>.</summary>
    public string Reason { get; }

    public StatusDetails? Details { get; }

    /// <summary><c>pods "x" not found</c>; <paramref name="group"/> is empty for the core group.</summary>
    public static StatusException NotFound(string group, string resource, string name) =>
        new(404, StatusReason.NotFound, $"{Qualified(group, resource)} {QuotedString.Quote(name)} not found",
            new StatusDetails { Name = name, Group = group, Kind = resource });

    /// <summary>The answer to a path the server does not serve.</summary>
    public static StatusException NotFoundPath() =>
        new(404, StatusReason.NotFound, "the server could not find the requested resource", new StatusDetails());

    public static StatusException AlreadyExists(string group, string resource, string name) =>
        new(409, StatusReason.AlreadyExists, $"{Qualified(group, resource)} {QuotedString.Quote(name)} already exists",
            new StatusDetails { Name = name, Group = group, Kind = resource });

    /// <summary>A generated name collided; clients may retry after <paramref name="retryAfterSeconds"/>.</summary>
    public static StatusException GenerateNameConflict(string group, string resource, string name, int retryAfterSeconds = 1) =>
        new(409, StatusReason.AlreadyExists,
            $"{Qualified(group, resource)} {QuotedString.Quote(name)} already exists, the server was not able to generate a unique name for the object",
            new StatusDetails { Name = name, Group = group, Kind = resource, RetryAfterSeconds = retryAfterSeconds });

    /// <summary><c>Operation cannot be fulfilled on pods "x": &lt;message&gt;</c>; default message is the optimistic-lock text.</summary>
    public static StatusException Conflict(string group, string resource, string name, string message = OptimisticLockMessage) =>
        new(409, StatusReason.Conflict, $"Operation cannot be fulfilled on {Qualified(group, resource)} {QuotedString.Quote(name)}: {message}",
            new StatusDetails { Name = name, Group = group, Kind = resource });

    /// <summary>A server-side apply conflict with the given causes (FieldManagerConflict).</summary>
    public static StatusException ApplyConflict(IReadOnlyList<StatusCause> causes, string message) =>
        new(409, StatusReason.Conflict, message, new StatusDetails { Causes = causes });

    /// <summary><c>Pod "x" is invalid: [spec.containers[0].image: Required value, …]</c>.</summary>
    public static StatusException Invalid(string group, string kind, string name, IReadOnlyList<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var causes = errors.Select(e => new StatusCause(FieldError.CauseType(e.Type), e.Body, e.Field)).ToList();
        var aggregate = FieldError.Aggregate(errors);
        var qualified = Qualified(group, kind);
        var message = aggregate.Length == 0
            ? $"{qualified} {QuotedString.Quote(name)} is invalid"
            : $"{qualified} {QuotedString.Quote(name)} is invalid: {aggregate}";
        return new(422, StatusReason.Invalid, message, new StatusDetails { Name = name, Group = group, Kind = kind, Causes = causes });
    }

    /// <summary>A 422 without a particular object (e.g. a JSON patch that cannot be applied).</summary>
    public static StatusException Unprocessable(string message) => new(422, StatusReason.Invalid, message, new StatusDetails());

    public static StatusException BadRequest(string message) => new(400, StatusReason.BadRequest, message);

    /// <summary>401; upstream answers unauthenticated requests with the message <c>Unauthorized</c>.</summary>
    public static StatusException Unauthorized(string message = "") =>
        new(401, StatusReason.Unauthorized, message.Length == 0 ? "Unauthorized" : message);

    /// <summary><c>pods "x" is forbidden: &lt;reason&gt;</c>; without resource <c>forbidden: &lt;reason&gt;</c>.</summary>
    public static StatusException Forbidden(string group, string resource, string name, string reason)
    {
        string message;
        if (group.Length == 0 && resource.Length == 0)
        {
            message = $"forbidden: {reason}";
        }
        else if (name.Length == 0)
        {
            message = $"{Qualified(group, resource)} is forbidden: {reason}";
        }
        else
        {
            message = $"{Qualified(group, resource)} {QuotedString.Quote(name)} is forbidden: {reason}";
        }

        return new(403, StatusReason.Forbidden, message, new StatusDetails { Name = name, Group = group, Kind = resource });
    }

    /// <summary><c>create is not supported on resources of kind "pods"</c>.</summary>
    public static StatusException MethodNotSupported(string group, string resource, string action) =>
        new(405, StatusReason.MethodNotAllowed,
            $"{action} is not supported on resources of kind {QuotedString.Quote(Qualified(group, resource))}",
            new StatusDetails { Group = group, Kind = resource });

    /// <summary>The answer to a body whose content type the endpoint does not read.</summary>
    public static StatusException UnsupportedMediaType(string contentType, IEnumerable<string> accepted) =>
        new(415, StatusReason.UnsupportedMediaType,
            $"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", accepted)}",
            new StatusDetails { Causes = [new StatusCause("", contentType, "")] });

    /// <summary>The answer to an Accept header the endpoint cannot satisfy.</summary>
    public static StatusException NotAcceptable(IEnumerable<string> accepted) =>
        new(406, StatusReason.NotAcceptable, $"only the following media types are accepted: {string.Join(", ", accepted)}");

    public static StatusException RequestEntityTooLarge(string message) =>
        new(413, StatusReason.RequestEntityTooLarge, $"Request entity too large: {message}");

    public static StatusException TooManyRequests(string message, int retryAfterSeconds) =>
        new(429, StatusReason.TooManyRequests, $"Too many requests: {message}",
            new StatusDetails { RetryAfterSeconds = retryAfterSeconds });

    /// <summary>410 Gone with reason Gone (e.g. a continue token that can no longer be served).</summary>
    public static StatusException Gone(string message) => new(410, StatusReason.Gone, message);

    /// <summary>410 Gone with reason Expired: <c>too old resource version: 5 (10)</c>.</summary>
    public static StatusException ResourceExpired(string message) => new(410, StatusReason.Expired, message);

    /// <summary>The watch/list resource version is older than what the server retains.</summary>
    public static StatusException TooOldResourceVersion(long requested, long oldest) =>
        ResourceExpired(string.Create(CultureInfo.InvariantCulture, $"too old resource version: {requested} ({oldest})"));

    /// <summary>504: <c>Timeout: &lt;message&gt;</c>.</summary>
    public static StatusException Timeout(string message, int retryAfterSeconds) =>
        new(504, StatusReason.Timeout, $"Timeout: {message}", new StatusDetails { RetryAfterSeconds = retryAfterSeconds });

    /// <summary>500 ServerTimeout: the operation could not be completed in time.</summary>
    public static StatusException ServerTimeout(string group, string resource, string operation, int retryAfterSeconds) =>
        new(500, StatusReason.ServerTimeout,
            $"The {operation} operation against {Qualified(group, resource)} could not be completed at this time, please try again.",
            new StatusDetails { Group = group, Kind = resource, Name = operation, RetryAfterSeconds = retryAfterSeconds });

    public static StatusException ServiceUnavailable(string message) => new(503, StatusReason.ServiceUnavailable, message);

    /// <summary>500: <c>Internal error occurred: &lt;message&gt;</c> (the message only, never a stack trace).</summary>
    public static StatusException InternalError(string message, Exception? innerException = null) =>
        new(500, StatusReason.InternalError, $"Internal error occurred: {message}",
            new StatusDetails { Causes = [new StatusCause("", message, "")] }, innerException);

    /// <summary>Writes the Status object (<c>{"kind":"Status","apiVersion":"v1",…}</c>) in upstream's field order.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("kind", "Status");
        writer.WriteString("apiVersion", "v1");
        writer.WriteStartObject("metadata");
        writer.WriteEndObject();
        writer.WriteString("status", "Failure");
        if (Message.Length > 0)
        {
            writer.WriteString("message", Message);
        }

        if (Reason.Length > 0)
        {
            writer.WriteString("reason", Reason);
        }

        if (Details is { } details)
        {
            writer.WriteStartObject("details");
            WriteIfSet(writer, "name", details.Name);
            WriteIfSet(writer, "group", details.Group);
            WriteIfSet(writer, "kind", details.Kind);
            WriteIfSet(writer, "uid", details.Uid);
            if (details.Causes.Count > 0)
            {
                writer.WriteStartArray("causes");
                foreach (var cause in details.Causes)
                {
                    writer.WriteStartObject();
                    WriteIfSet(writer, "reason", cause.Reason);
                    WriteIfSet(writer, "message", cause.Message);
                    WriteIfSet(writer, "field", cause.Field);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            if (details.RetryAfterSeconds != 0)
            {
                writer.WriteNumber("retryAfterSeconds", details.RetryAfterSeconds);
            }

            writer.WriteEndObject();
        }

        writer.WriteNumber("code", Code);
        writer.WriteEndObject();
    }

    /// <summary>The Status object as UTF-8 JSON bytes.</summary>
    public byte[] ToJsonBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, string value)
    {
        if (value.Length > 0)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Upstream's GroupResource/GroupKind text: <c>pods</c>, <c>deployments.apps</c>.</summary>
    private static string Qualified(string group, string name) => group.Length == 0 ? name : $"{name}.{group}";
}
