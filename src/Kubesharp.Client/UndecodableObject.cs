using System.Text.Json;

namespace Kubesharp.Client;

/// <summary>
/// An object the server sent that does not fit its type (a wrong-typed field written by an older server).
/// Lists and watches leave it out instead of failing as a whole; this records which one and why.
/// </summary>
public sealed record UndecodableObject(string Kind, string? Namespace, string Name, string? ResourceVersion, string Reason)
{
    /// <summary>metadata.uid when it was readable.</summary>
    public string? Uid { get; init; }

    /// <summary>The cache and work-queue key, as <see cref="ObjectKey.Of(string?, string)"/>.</summary>
    public string Key => ObjectKey.Of(Namespace, Name);

    /// <summary>Reads what identifies the object without its type: only string values of metadata are taken.</summary>
    internal static UndecodableObject From(ReadOnlySpan<byte> json, string kind, Exception error)
    {
        string? ns = null, name = null, resourceVersion = null, uid = null;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("metadata", out var metadata)
                && metadata.ValueKind == JsonValueKind.Object)
            {
                ns = StringOf(metadata, "namespace");
                name = StringOf(metadata, "name");
                resourceVersion = StringOf(metadata, "resourceVersion");
                uid = StringOf(metadata, "uid");
            }
        }
        catch (JsonException)
        {
            // Not even JSON: nothing identifies it beyond the reason.
        }

        return new UndecodableObject(kind, string.IsNullOrEmpty(ns) ? null : ns, name ?? "", resourceVersion, Describe(error)) { Uid = uid };
    }

    /// <summary>An empty object of the type carrying this one's identity (name, namespace, uid, resourceVersion).</summary>
    public T StandIn<T>()
        where T : class, ApiMachinery.IKubernetesObject, new() =>
        new() { Metadata = new ApiMachinery.Meta.V1.ObjectMeta { Namespace = Namespace, Name = Name, Uid = Uid, ResourceVersion = ResourceVersion } };

    /// <summary>The decoding failures of a well-formed document whose values do not fit the type.</summary>
    internal static bool IsDecodingFailure(Exception error) =>
        error is JsonException or FormatException or InvalidOperationException or OverflowException or ArgumentException or NotSupportedException;

    private static string? StringOf(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Describe(Exception error)
    {
        var message = error.Message;
        return error is JsonException { Path: { Length: > 0 } path } && !message.Contains(path, StringComparison.Ordinal)
            ? $"{message} (at {path})"
            : message;
    }
}
