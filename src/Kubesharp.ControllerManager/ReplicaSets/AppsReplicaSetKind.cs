using Kubesharp.Api.Apps.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;

namespace Kubesharp.ControllerManager.ReplicaSets;

/// <summary>apps/v1 ReplicaSets: the objects are their own views.</summary>
internal sealed class AppsReplicaSetKind : ReplicaSetKind
{
    private Lister<ReplicaSet> lister = null!;

    public override string ControllerName => "replicaset";

    public override string ApiVersion => ReplicaSet.KubeApiVersion;

    public override string Kind => ReplicaSet.KubeKind;

    public override void Register(ControllerContext context, InformerSyncs syncs, Action<ReplicaSet> changed, Action<ReplicaSet> deleted)
    {
        var informer = context.Informers.Informer<ReplicaSet>();
        lister = informer.Lister;
        informer.AddEventHandler(changed, (_, rs) => changed(rs), deleted);
        syncs.Add(informer.WaitForSyncAsync);
    }

    public override ReplicaSet? Get(string? @namespace, string name) => lister.Get(@namespace, name);

    public override IEnumerable<ReplicaSet> List(string @namespace) => lister.List(@namespace);

    public override async Task<ObjectMeta?> GetLiveMetadataAsync(KubernetesClient client, string? @namespace, string name, CancellationToken cancellationToken) =>
        (await client.Resource<ReplicaSet>().GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false)).Metadata;

    public override Task UpdateStatusAsync(KubernetesClient client, ReplicaSet view, CancellationToken cancellationToken) =>
        client.Resource<ReplicaSet>().UpdateStatusAsync(view, cancellationToken: cancellationToken);
}
