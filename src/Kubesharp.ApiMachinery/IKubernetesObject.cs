using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ApiMachinery;

/// <summary>A top-level persisted kind: type meta plus object metadata.</summary>
public interface IKubernetesObject : IKubernetesTypeMeta
{
    ObjectMeta? Metadata { get; set; }
}
