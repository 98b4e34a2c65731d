using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Policy.V1;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client;

/// <summary>The pods subresources that are actions: binding and eviction.</summary>
public static class PodClientExtensions
{
    /// <summary>POST pods/NAME/binding: assigns the pod to <paramref name="nodeName"/>.</summary>
    public static Task BindAsync(this ResourceClient<Pod> pods, string @namespace, string name, string nodeName, string? uid = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var binding = new Binding
        {
            ApiVersion = "v1",
            Kind = "Binding",
            Metadata = new ObjectMeta { Name = name, Namespace = @namespace, Uid = uid },
            Target = new ObjectReference { Kind = "Node", Name = nodeName, ApiVersion = "v1" },
        };
        return pods.CreateSubresourceAsync(@namespace, name, "binding", binding, cancellationToken);
    }

    /// <summary>POST pods/NAME/eviction (policy/v1): a deletion that honours PodDisruptionBudgets (429 when it would violate one).</summary>
    public static Task EvictAsync(this ResourceClient<Pod> pods, string @namespace, string name, DeleteOptions? deleteOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var eviction = new Eviction
        {
            ApiVersion = "policy/v1",
            Kind = "Eviction",
            Metadata = new ObjectMeta { Name = name, Namespace = @namespace },
            DeleteOptions = deleteOptions,
        };
        return pods.CreateSubresourceAsync(@namespace, name, "eviction", eviction, cancellationToken);
    }
}
