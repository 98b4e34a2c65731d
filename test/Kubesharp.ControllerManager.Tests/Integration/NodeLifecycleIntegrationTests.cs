using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.NodeLifecycle;

namespace Kubesharp.ControllerManager.Tests.Integration;

public sealed class NodeLifecycleIntegrationTests(SilentNodeCluster fixture) : IClassFixture<SilentNodeCluster>
{
    private ControllerCluster Cluster => fixture.Cluster;

    private Task<Pod> CreatePodAsync(string name, Toleration toleration) =>
        Cluster.Client.Resource<Pod>().CreateAsync(new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta { Name = name, Namespace = "default" },
            Spec = new PodSpec { Containers = [new Container { Name = "main", Image = "busybox" }], Tolerations = [toleration] },
        });

    [Fact]
    public async Task Node_WithoutHeartbeats_BecomesUnknownAndUnreachableTainted()
    {
        var node = await ControllerCluster.EventuallyAsync(
            () => Cluster.Client.Resource<Node>().GetAsync(null, ControllerCluster.NodeName),
            n => n.Spec?.Taints?.Any(t => t is { Key: TaintKeys.Unreachable, Effect: TaintKeys.NoExecute }) == true,
            "the unreachable taint");

        var ready = node.Status!.Conditions!.Single(c => c.Type == "Ready");
        Assert.Equal(("Unknown", "NodeStatusUnknown"), (ready.Status, ready.Reason));
        Assert.Contains(node.Spec!.Taints!, t => t is { Key: TaintKeys.Unreachable, Effect: TaintKeys.NoSchedule });
    }

    [Fact]
    public async Task UnreachableNode_PodsEvictedAfterTolerationSecondsUnlessToleratedForever()
    {
        await CreatePodAsync("stays", new Toleration { Key = TaintKeys.Unreachable, Operator = "Exists", Effect = TaintKeys.NoExecute });
        await CreatePodAsync("leaves", new Toleration { Key = TaintKeys.Unreachable, Operator = "Exists", Effect = TaintKeys.NoExecute, TolerationSeconds = 1 });

        await ControllerCluster.EventuallyAsync(() => Cluster.TryGetAsync<Pod>("default", "leaves"), p => p is null, "the pod to be evicted");

        var stays = await Cluster.TryGetAsync<Pod>("default", "stays");
        Assert.NotNull(stays);
        Assert.Null(stays!.Metadata!.DeletionTimestamp);
    }
}
