using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.ControllerManager.Resources;

/// <summary>
/// Kind-independent access to one resource through the typed client, for the controllers that work across all
/// resources (garbage collector, namespace deletion).
/// </summary>
internal abstract class ResourceAccess(ApiResource resource)
{
    public ApiResource Resource { get; } = resource;

    /// <summary>Starts caching the resource and reports every change of it; returns the wait for the first list.</summary>
    public abstract Func<CancellationToken, Task> Watch(SharedInformerFactory informers, Action<IKubernetesObject> onUpsert, Action<IKubernetesObject> onDelete);

    /// <summary>From the cache; valid after <see cref="Watch"/>.</summary>
    public abstract IKubernetesObject? GetCached(string? @namespace, string name);

    /// <summary>The live object, or null when it does not exist.</summary>
    public abstract Task<IKubernetesObject?> GetAsync(string? @namespace, string name, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<IKubernetesObject>> ListAsync(string? @namespace, CancellationToken cancellationToken);

    /// <summary>Deletes; false when the object was already gone.</summary>
    public abstract Task<bool> DeleteAsync(string? @namespace, string name, DeleteOptions options, CancellationToken cancellationToken);

    public abstract Task PatchAsync(string? @namespace, string name, PatchType type, string patch, CancellationToken cancellationToken);
}
