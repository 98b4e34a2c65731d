using System.Text.Json.Serialization;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>
/// An object of any kind reduced to its metadata: what the server sends for get, list (as the items of a
/// PartialObjectMetadataList) and watch when Accept asks for <c>as=PartialObjectMetadata;g=meta.k8s.io;v=v1</c>.
/// </summary>
public sealed record PartialObjectMetadata : IKubernetesObject, IKubernetesKind
{
    public const string KubeApiVersion = "meta.k8s.io/v1";

    public const string KubeKind = "PartialObjectMetadata";

    static GroupVersionKind IKubernetesKind.GroupVersionKind => new("meta.k8s.io", "v1", KubeKind);

    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; }

    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("metadata")]
    public ObjectMeta? Metadata { get; set; }
}
