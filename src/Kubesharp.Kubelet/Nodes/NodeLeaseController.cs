using Kubesharp.Api.Coordination.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.Kubelet.Nodes;

/// <summary>The node's heartbeat: a Lease in kube-node-lease named after the node, renewed every few seconds.</summary>
internal sealed class NodeLeaseController
{
    public const string LeaseNamespace = "kube-node-lease";

    private readonly KubernetesClient client;
    private readonly string nodeName;
    private readonly int durationSeconds;
    private readonly TimeProvider time;
    private Lease? current;

    public NodeLeaseController(KubernetesClient client, string nodeName, int durationSeconds, TimeProvider time)
    {
        this.client = client;
        this.nodeName = nodeName;
        this.durationSeconds = durationSeconds;
        this.time = time;
    }

    /// <summary>Renews the lease, creating it (owned by the Node) when missing.</summary>
    public async Task RenewAsync(string? nodeUid, CancellationToken cancellationToken)
    {
        var leases = client.Resource<Lease>();
        var now = time.GetUtcNow();
        if (current is null)
        {
            try
            {
                current = await leases.GetAsync(LeaseNamespace, nodeName, cancellationToken);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                var lease = new Lease
                {
                    ApiVersion = "coordination.k8s.io/v1",
                    Kind = "Lease",
                    Metadata = new ObjectMeta
                    {
                        Name = nodeName,
                        Namespace = LeaseNamespace,
                        OwnerReferences = nodeUid is null ? null :
                            [new OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = nodeUid }],
                    },
                    Spec = new LeaseSpec { HolderIdentity = nodeName, LeaseDurationSeconds = durationSeconds, RenewTime = now },
                };
                current = await leases.CreateAsync(lease, cancellationToken: cancellationToken);
                return;
            }
        }

        var renewed = current with { Spec = (current.Spec ?? new LeaseSpec()) with { HolderIdentity = nodeName, LeaseDurationSeconds = durationSeconds, RenewTime = now } };
        try
        {
            current = await leases.UpdateAsync(renewed, cancellationToken: cancellationToken);
        }
        catch (StatusException e) when (e.IsConflict() || e.IsNotFound())
        {
            // Someone else wrote it (or deleted it): read again next time.
            current = null;
            throw;
        }
    }
}
