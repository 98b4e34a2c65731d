using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Resources;

internal sealed class TypedResourceAccess<T>(KubernetesClient client, ApiResource resource) : ResourceAccess(resource)
    where T : class, IKubernetesObject, IKubernetesKind
{
    private readonly ResourceClient<T> resourceClient = client.Resource<T>();
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
}
