namespace Kubesharp.ApiMachinery;

/// <summary>The apiVersion and kind every serialized kind carries.</summary>
public interface IKubernetesTypeMeta
{
    string? ApiVersion { get; set; }

    string? Kind { get; set; }
}
