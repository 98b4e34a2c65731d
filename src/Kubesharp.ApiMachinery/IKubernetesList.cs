using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ApiMachinery;

/// <summary>A list kind (PodList), seen without its item type.</summary>
public interface IKubernetesList : IKubernetesTypeMeta
{
    ListMeta? Metadata { get; set; }

    IReadOnlyList<IKubernetesObject>? Items { get; }
}

/// <summary>A list kind with its item type.</summary>
public interface IKubernetesList<T> : IKubernetesList
    where T : IKubernetesObject
{
    new List<T>? Items { get; set; }
}
