using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.ControllerManager.ReplicaSets;

/// <summary>
/// v1 ReplicationControllers as ReplicaSets: the equality selector becomes <c>matchLabels</c>, the status and its
/// conditions carry over field by field.
/// </summary>
internal sealed class ReplicationControllerKind : ReplicaSetKind
{
    private Lister<ReplicationController> lister = null!;

    public override string ControllerName => "replicationcontroller";

    public override string ApiVersion => ReplicationController.KubeApiVersion;

    public override string Kind => ReplicationController.KubeKind;

    public override void Register(ControllerContext context, InformerSyncs syncs, Action<ReplicaSet> changed, Action<ReplicaSet> deleted)
    {
        var informer = context.Informers.Informer<ReplicationController>();
        lister = informer.Lister;
        informer.AddEventHandler(rc => changed(ToReplicaSet(rc)), (_, rc) => changed(ToReplicaSet(rc)), rc => deleted(ToReplicaSet(rc)));
        syncs.Add(informer.WaitForSyncAsync);
    }

    public override ReplicaSet? Get(string? @namespace, string name) => lister.Get(@namespace, name) is { } rc ? ToReplicaSet(rc) : null;

    public override IEnumerable<ReplicaSet> List(string @namespace) => lister.List(@namespace).Select(ToReplicaSet);

    public override async Task<ObjectMeta?> GetLiveMetadataAsync(KubernetesClient client, string? @namespace, string name, CancellationToken cancellationToken) =>
        (await client.Resource<ReplicationController>().GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false)).Metadata;

    public override async Task UpdateStatusAsync(KubernetesClient client, ReplicaSet view, CancellationToken cancellationToken)
    {
        var meta = view.Metadata!;
        // The status subresource ignores the spec; the view's metadata carries the resourceVersion it was computed from.
        var rc = new ReplicationController
        {
            ApiVersion = ApiVersion,
            Kind = Kind,
            Metadata = meta,
            Spec = lister.Get(meta.Namespace, meta.Name!)?.Spec ?? new ReplicationControllerSpec(),
            Status = ToStatus(view.Status),
        };
        await client.Resource<ReplicationController>().UpdateStatusAsync(rc, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A ReplicaSet view sharing the controller's (read-only) metadata and template.</summary>
    public static ReplicaSet ToReplicaSet(ReplicationController rc) => new()
    {
        ApiVersion = ReplicaSet.KubeApiVersion,
        Kind = ReplicaSet.KubeKind,
        Metadata = rc.Metadata,
        Spec = new ReplicaSetSpec
        {
            Replicas = rc.Spec?.Replicas,
            MinReadySeconds = rc.Spec?.MinReadySeconds,
            Selector = new LabelSelector { MatchLabels = rc.Spec?.Selector },
            Template = rc.Spec?.Template,
        },
        Status = rc.Status is { } s
            ? new ReplicaSetStatus
            {
                Replicas = s.Replicas,
                FullyLabeledReplicas = s.FullyLabeledReplicas,
                ReadyReplicas = s.ReadyReplicas,
                AvailableReplicas = s.AvailableReplicas,
                ObservedGeneration = s.ObservedGeneration,
                Conditions = s.Conditions?.Select(c => new ReplicaSetCondition
                {
                    Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime,
                }).ToList(),
            }
            : null,
    };

    private static ReplicationControllerStatus? ToStatus(ReplicaSetStatus? s) => s is null
        ? null
        : new ReplicationControllerStatus
        {
            Replicas = s.Replicas,
            FullyLabeledReplicas = s.FullyLabeledReplicas,
            ReadyReplicas = s.ReadyReplicas,
            AvailableReplicas = s.AvailableReplicas,
            ObservedGeneration = s.ObservedGeneration,
            Conditions = s.Conditions?.Select(c => new ReplicationControllerCondition
            {
                Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime,
            }).ToList(),
        };
}
