using System.Globalization;
using System.Text.Json;

namespace Kubesharp.ApiServer.Printing;

/// <summary>The object a row is printed from, with the time the table is made (ages are relative to it).</summary>
internal readonly struct PrintedObject(JsonElement root, DateTimeOffset now)
{
    public JsonElement Root => root;

    public DateTimeOffset Now => now;

    public JsonElement Metadata => root.Field("metadata");

    public JsonElement Spec => root.Field("spec");

    public JsonElement Status => root.Field("status");

    public string Name => Metadata.Text("name") ?? string.Empty;

    public string Age => Since(Metadata.Time("creationTimestamp"));

    /// <summary>The creation time as upstream's default table prints it (RFC 3339, UTC; Go's zero time when absent).</summary>
    public string CreatedAt =>
        (Metadata.Time("creationTimestamp") ?? DateTimeOffset.MinValue).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public bool IsDeleting => Metadata.Field("deletionTimestamp").ValueKind == JsonValueKind.String;

    public string? Annotation(string key) => Metadata.Field("annotations").Text(key);

    /// <summary>A human duration since <paramref name="time"/>, or &lt;unknown&gt;.</summary>
    public string Since(DateTimeOffset? time) => time is { } t ? HumanDuration.Format(now - t) : "<unknown>";
}
