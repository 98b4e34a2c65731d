using System.Text.Json.Serialization;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client.Metadata;

/// <summary>The serialization of metadata-only objects, which the generated API context does not hold.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(PartialObjectMetadata))]
internal sealed partial class MetadataJsonContext : JsonSerializerContext;
