using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.ControllerManager.Resources;

internal sealed class TypedResourceAccess<T>(KubernetesClient client, ApiResource resource) : ResourceAccess(resource)
    where T : class, IKubernetesObject, IKubernetesKind
{
    private readonly ResourceClient<T> resourceClient = client.Resource<T>();
    private Lister<T>? lister;

    public override Func<CancellationToken, Task> Watch(SharedInformerFactory informers, Action<IKubernetesObject> onUpsert, Action<IKubernetesObject> onDelete)
    {
        var informer = informers.Informer<T>();
        lister = informer.Lister;
        informer.AddEventHandler(o => onUpsert(o), (_, o) => onUpsert(o), o => onDelete(o));
        return informer.WaitForSyncAsync;
    }

    public override IKubernetesObject? GetCached(string? @namespace, string name) => lister?.Get(@namespace, name);

    public override async Task<IKubernetesObject?> GetAsync(string? @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await resourceClient.GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
        catch (UndecodableObjectException e)
        {
            // It exists though it does not fit its type: an owner that cannot be read is still an owner.
            return e.Object.StandIn<T>();
        }
    }

    public override async Task<IReadOnlyList<IKubernetesObject>> ListAsync(string? @namespace, CancellationToken cancellationToken)
    {
        var list = await resourceClient.ListAllAsync(@namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (list.Undecodable.Count == 0)
        {
            return list.Items;
        }

        // Objects that do not decode exist all the same: stand-ins carrying their names let namespace deletion remove them.
        return [.. list.Items, .. list.Undecodable.Select(u => u.StandIn<T>())];
    }

    public override async Task<bool> DeleteAsync(string? @namespace, string name, DeleteOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await resourceClient.DeleteAsync(@namespace, name, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return false;
        }
    }

    public override Task PatchAsync(string? @namespace, string name, PatchType type, string patch, CancellationToken cancellationToken) =>
        resourceClient.PatchAsync(@namespace, name, type, patch, cancellationToken: cancellationToken);
}
