using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kubesharp.Api;

/// <summary>
/// JSON for every type of the API. <see cref="JsonSerializerContext.Default"/> drops unknown fields as the
/// API server does by default; <see cref="Strict"/> rejects the first unknown field. Numbers are never read
/// from strings, property names match case-sensitively, and null properties are not written.
/// </summary>
public sealed partial class KubernetesJsonContext
{
    /// <summary>Like <see cref="JsonSerializerContext.Default"/>, but an unknown field is a <see cref="JsonException"/>.</summary>
    public static KubernetesJsonContext Strict { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        PropertyNameCaseInsensitive = false,
    });
}
