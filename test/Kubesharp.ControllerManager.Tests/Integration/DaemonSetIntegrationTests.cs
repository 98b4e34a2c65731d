using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Tests.Integration;

public sealed class DaemonSetIntegrationTests
{
    private const string Ns = "default";

    private static DaemonSet DaemonSet(string image) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "DaemonSet",
        Metadata = new ObjectMeta { Name = "agent", Namespace = Ns },
        Spec = new DaemonSetSpec
        {
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = "agent" } },
            Template = new PodTemplateSpec
            {
                Metadata = new ObjectMeta { Labels = new() { ["app"] = "agent" } },
                Spec = new PodSpec { TerminationGracePeriodSeconds = 1, Containers = [new Container { Name = "agent", Image = image }] },
            },
        },
    };

    private static Task<DaemonSet> WaitForAsync(ResourceClient<DaemonSet> daemonSets, Func<DaemonSetStatus, bool> condition, string what) =>
        ControllerCluster.EventuallyAsync(() => daemonSets.GetAsync(Ns, "agent"), d => d.Status is { } st && st.ObservedGeneration == d.Metadata?.Generation && condition(st), what);

    /// <summary>The live daemon pods by the node they run on.</summary>
    private static async Task<Dictionary<string, Pod>> PodsByNodeAsync(KubernetesClient client) =>
        (await client.Resource<Pod>().ListAsync(Ns)).Items
            .Where(p => p.Metadata?.DeletionTimestamp is null && p.Spec?.NodeName is { Length: > 0 })
            .GroupBy(p => p.Spec!.NodeName!)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    private static async Task PatchNodeTaintsAsync(KubernetesClient client, string node, string taintsJson) =>
        await client.Resource<Node>().PatchAsync(null, node, PatchType.Merge, "{\"spec\":{\"taints\":" + taintsJson + "}}");

    [Fact]
    public async Task DaemonSet_FollowsNodesAddedRemovedAndTainted_AndRollsOut()
    {
        await using var cluster = await SimulatedNodeCluster.StartAsync(3);
        var daemonSets = cluster.Client.Resource<DaemonSet>();

        await daemonSets.CreateAsync(DaemonSet("agent:1"));
        await WaitForAsync(daemonSets, s => s.DesiredNumberScheduled == 3 && s.NumberAvailable == 3 && s.UpdatedNumberScheduled == 3, "a pod on each of three nodes");
        var pods = await PodsByNodeAsync(cluster.Client);
        Assert.Equal(["sim-node-0", "sim-node-1", "sim-node-2"], pods.Keys.Order(StringComparer.Ordinal));
        var pinned = pods["sim-node-1"].Spec!.Affinity!.NodeAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!.NodeSelectorTerms![0].MatchFields![0];
        Assert.Equal(["sim-node-1"], pinned.Values!);
        Assert.Contains(pods["sim-node-1"].Spec!.Tolerations!, t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule");

        // A new node gets a pod.
        var extra = await cluster.AddNodesAsync("extra-node-", 1);
        await WaitForAsync(daemonSets, s => s.DesiredNumberScheduled == 4 && s.NumberAvailable == 4, "a pod on the new node");
        Assert.Contains("extra-node-0", (await PodsByNodeAsync(cluster.Client)).Keys);

        // A NoExecute taint the pods do not tolerate takes the pod away; removing it brings one back.
        await PatchNodeTaintsAsync(cluster.Client, "sim-node-0", "[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoExecute\"}]");
        await WaitForAsync(daemonSets, s => s.DesiredNumberScheduled == 3 && s.NumberMisscheduled == 0 && s.CurrentNumberScheduled == 3, "the tainted node's pod gone");
        await ControllerCluster.EventuallyAsync(() => PodsByNodeAsync(cluster.Client), p => !p.ContainsKey("sim-node-0"), "no pod on the tainted node");

        // Cordoning adds a NoSchedule taint daemon pods tolerate: nothing changes.
        await PatchNodeTaintsAsync(cluster.Client, "sim-node-0", "null");
        await WaitForAsync(daemonSets, s => s.DesiredNumberScheduled == 4 && s.NumberAvailable == 4, "the untainted node's pod back");
        await cluster.Client.Resource<Node>().PatchAsync(null, "sim-node-1", PatchType.Merge, "{\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]}}");
        await WaitForAsync(daemonSets, s => s.DesiredNumberScheduled == 4 && s.NumberAvailable == 4, "the cordoned node keeps its pod");

        // A removed node loses its pod.
        await cluster.StopNodesAsync(extra);
        await cluster.Client.Resource<Node>().DeleteAsync(null, "extra-node-0");
        await WaitForAsync(daemonSets, s => s.DesiredNumberScheduled == 4 - 1 && s.NumberAvailable == 3, "three nodes again");
        await ControllerCluster.EventuallyAsync(() => PodsByNodeAsync(cluster.Client), p => !p.ContainsKey("extra-node-0"), "no pod left on the removed node");

        // A new image rolls out node by node (maxUnavailable 1) and leaves two revisions.
        var current = await daemonSets.GetAsync(Ns, "agent");
        current.Spec!.Template!.Spec!.Containers![0].Image = "agent:2";
        await daemonSets.UpdateAsync(current);
        var rolled = await WaitForAsync(daemonSets, s => s.UpdatedNumberScheduled == 3 && s.NumberAvailable == 3 && s.DesiredNumberScheduled == 3, "the new image everywhere");
        Assert.Equal("2", rolled.Metadata!.Annotations!["deprecated.daemonset.template.generation"]);
        var images = (await PodsByNodeAsync(cluster.Client)).Values.Select(p => p.Spec!.Containers![0].Image).Distinct();
        Assert.Equal(["agent:2"], images);
        var revisions = (await cluster.Client.Resource<ControllerRevision>().ListAsync(Ns)).Items;
        Assert.Equal([1L, 2L], revisions.Select(r => r.Revision ?? 0).Order());
    }
}
