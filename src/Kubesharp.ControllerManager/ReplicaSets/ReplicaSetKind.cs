using Kubesharp.Api.Apps.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.ReplicaSets;

/// <summary>
/// The kind a <see cref="ReplicaSetController"/> runs: ReplicaSets, or ReplicationControllers seen as ReplicaSets
/// (upstream's replication manager is the ReplicaSet controller over converted objects, and so is ours).
/// </summary>
internal abstract class ReplicaSetKind
{
    /// <summary>The controller's name, as upstream's controller manager names it.</summary>
    public abstract string ControllerName { get; }

    public abstract string ApiVersion { get; }

    public abstract string Kind { get; }

    /// <summary>Starts watching the kind; <paramref name="changed"/> and <paramref name="deleted"/> get ReplicaSet views.</summary>
    public abstract void Register(ControllerContext context, InformerSyncs syncs, Action<ReplicaSet> changed, Action<ReplicaSet> deleted);

    public abstract ReplicaSet? Get(string? @namespace, string name);

    public abstract IEnumerable<ReplicaSet> List(string @namespace);

    /// <summary>The object's metadata as the API has it now (not the cache's).</summary>
    public abstract Task<ObjectMeta?> GetLiveMetadataAsync(KubernetesClient client, string? @namespace, string name, CancellationToken cancellationToken);

    /// <summary>Writes the view's status to the object it stands for (with the view's resourceVersion).</summary>
    public abstract Task UpdateStatusAsync(KubernetesClient client, ReplicaSet view, CancellationToken cancellationToken);
}
