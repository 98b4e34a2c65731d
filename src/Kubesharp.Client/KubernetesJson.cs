using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Kubesharp.Api;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client;

/// <summary>Serialization through the source-generated context, plus the Status-to-exception mapping.</summary>
public static class KubernetesJson
{
    /// <summary>The source-generated metadata of an API type.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>() => WriteTypeInfoCache<T>.Info;

    /// <summary>
    /// The same metadata for reading what the server sends: strings go through <see cref="PooledStringConverter"/>,
    /// so that the many objects a process caches share their repeated strings.
    /// </summary>
    internal static JsonTypeInfo<T> ReadTypeInfo<T>() => ReadTypeInfoCache<T>.Info;

    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>());

    public static T Deserialize<T>(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, ReadTypeInfo<T>()) ?? throw new JsonException($"null {typeof(T).Name}");

    /// <summary>
    /// A deep copy by JSON round trip: objects from informer caches are shared and read-only, so copy before changing.
    /// </summary>
    public static T DeepCopy<T>(T value)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(value);
        return Deserialize<T>(Serialize(value));
    }

    /// <summary>Turns a Status (or any error body) of a failed response into the typed exception.</summary>
    internal static StatusException ToException(int code, ReadOnlySpan<byte> body)
    {
        Status? status = null;
        try
        {
            if (body.Length > 0 && body[0] == (byte)'{')
            {
                status = JsonSerializer.Deserialize(body, TypeInfo<Status>());
            }
        }
        catch (JsonException)
        {
            // Not a Status: fall through to a reason derived from the code.
        }

        if (status is not null && status.Kind == "Status")
        {
            return FromStatus(status, code);
        }

        var text = System.Text.Encoding.UTF8.GetString(body).Trim();
        return new StatusException(code, ReasonForCode(code), text.Length > 0 ? text : $"the server responded with status code {code}");
    }

    internal static StatusException FromStatus(Status status, int fallbackCode)
    {
        var details = status.Details is { } d
            ? new ApiMachinery.Errors.StatusDetails
            {
                Name = d.Name ?? "",
                Group = d.Group ?? "",
                Kind = d.Kind ?? "",
                Uid = d.Uid ?? "",
                RetryAfterSeconds = d.RetryAfterSeconds ?? 0,
                Causes = d.Causes?.Select(c => new ApiMachinery.Errors.StatusCause(c.Reason ?? "", c.Message ?? "", c.Field ?? "")).ToList() ?? [],
            }
            : null;
        var code = status.Code ?? fallbackCode;
        return new StatusException(code, status.Reason ?? ReasonForCode(code), status.Message ?? "", details);
    }

    private static string ReasonForCode(int code) => code switch
    {
        400 => StatusReason.BadRequest,
        401 => StatusReason.Unauthorized,
        403 => StatusReason.Forbidden,
        404 => StatusReason.NotFound,
        405 => StatusReason.MethodNotAllowed,
        406 => StatusReason.NotAcceptable,
        409 => StatusReason.Conflict,
        410 => StatusReason.Gone,
        413 => StatusReason.RequestEntityTooLarge,
        415 => StatusReason.UnsupportedMediaType,
        422 => StatusReason.Invalid,
        429 => StatusReason.TooManyRequests,
        500 => StatusReason.InternalError,
        503 => StatusReason.ServiceUnavailable,
        504 => StatusReason.Timeout,
        _ => StatusReason.Unknown,
    };

    // Apart, so that a kind only read (what informers cache) or only written never has its metadata built twice: a
    // kind's metadata covers every type it holds, and building it is much of a process's start.
    private static class WriteTypeInfoCache<T>
    {
        public static readonly JsonTypeInfo<T> Info =
            (KubernetesJsonContext.Default.GetTypeInfo(typeof(T)) ?? Metadata.MetadataJsonContext.Default.GetTypeInfo(typeof(T))) as JsonTypeInfo<T>
            ?? throw new InvalidOperationException($"{typeof(T)} is not in the API's JSON context");
    }

    private static class ReadTypeInfoCache<T>
    {
        public static readonly JsonTypeInfo<T> Info =
            (ReadContexts.Api.GetTypeInfo(typeof(T)) ?? ReadContexts.MetadataOnly.GetTypeInfo(typeof(T))) as JsonTypeInfo<T>
            ?? throw new InvalidOperationException($"{typeof(T)} is not in the API's JSON context");
    }

    /// <summary>Contexts with the generated contexts' settings plus one string pool shared by every type.</summary>
    private static class ReadContexts
    {
        private static readonly PooledStringConverter Strings = new();

        public static readonly KubernetesJsonContext Api = new(WithPool(KubernetesJsonContext.Default.Options));

        public static readonly Metadata.MetadataJsonContext MetadataOnly = new(WithPool(Metadata.MetadataJsonContext.Default.Options));

        private static JsonSerializerOptions WithPool(JsonSerializerOptions generated)
        {
            var options = new JsonSerializerOptions(generated) { TypeInfoResolver = null };
            options.Converters.Add(Strings);
            return options;
        }
    }
}
