using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.Resources;

/// <summary>
/// Kind-independent access to one resource through the typed client, for namespace deletion, which works across all
/// built-in resources.
/// </summary>
internal abstract class ResourceAccess(ApiResource resource)
{
    public ApiResource Resource { get; } = resource;

    public abstract Task<IReadOnlyList<IKubernetesObject>> ListAsync(string? @namespace, CancellationToken cancellationToken);

    /// <summary>Deletes; false when the object was already gone.</summary>
    public abstract Task<bool> DeleteAsync(string? @namespace, string name, DeleteOptions options, CancellationToken cancellationToken);
}
