using System.Text.Json.Nodes;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>Statuses the controllers write keep upstream's JSON shape.</summary>
public sealed class WorkloadStatusShapeTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    private async Task<string> NewNamespaceAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await cluster.Client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = name } });
        return name;
    }

    [Fact]
    public async Task Reconcile_AvailableDeployment_LeavesZeroCountersOut()
    {
        var ns = await NewNamespaceAsync();
        var deployment = Objects.Deployment("web", 2);
        deployment.Metadata = new ObjectMeta { Name = "web", Namespace = ns };
        await cluster.Client.Resource<Deployment>().CreateAsync(deployment);

        var status = await ControllerCluster.EventuallyAsync(
            async () => (await cluster.Client.GetJsonAsync($"/apis/apps/v1/namespaces/{ns}/deployments/web"))!["status"]!.AsObject(),
            s => (int?)s["availableReplicas"] == 2 && (int?)s["updatedReplicas"] == 2,
            "two available replicas");

        Assert.False(status.ContainsKey("unavailableReplicas"), status.ToJsonString());
        Assert.Equal(2, (int?)status["readyReplicas"]);
        var rs = (await cluster.Client.GetJsonAsync($"/apis/apps/v1/namespaces/{ns}/replicasets"))!["items"]!.AsArray().Single()!;
        Assert.Equal(2, (int?)rs["status"]!["fullyLabeledReplicas"]);

        // Scaled to nothing, the counters are 0 and so are left out, but the ReplicaSet keeps its replicas.
        await cluster.Client.Resource<Deployment>().PatchAsync(ns, "web", Kubesharp.Client.PatchType.Merge, """{"spec":{"replicas":0}}""");
        var scaled = await ControllerCluster.EventuallyAsync(
            async () => (await cluster.Client.GetJsonAsync($"/apis/apps/v1/namespaces/{ns}/deployments/web"))!["status"]!.AsObject(),
            s => (long?)s["observedGeneration"] == 2 && s["availableReplicas"] is null && s["replicas"] is null,
            "the deployment scaled to zero");
        Assert.False(scaled.ContainsKey("updatedReplicas"), scaled.ToJsonString());
        var emptied = await ControllerCluster.EventuallyAsync(
            async () => (await cluster.Client.GetJsonAsync($"/apis/apps/v1/namespaces/{ns}/replicasets"))!["items"]!.AsArray().Single()!["status"]!.AsObject(),
            s => (long?)s["observedGeneration"] == 2,
            "the replica set scaled to zero");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"replicas":0,"observedGeneration":2}"""), emptied), emptied.ToJsonString());
    }

    [Fact]
    public async Task Reconcile_DaemonSet_KeepsAlwaysWrittenCountersAndLeavesZerosOut()
    {
        var ns = await NewNamespaceAsync();
        await cluster.Client.Resource<DaemonSet>().CreateAsync(new DaemonSet
        {
            ApiVersion = "apps/v1",
            Kind = "DaemonSet",
            Metadata = new ObjectMeta { Name = "agent", Namespace = ns },
            Spec = new DaemonSetSpec
            {
                Selector = new LabelSelector { MatchLabels = new() { ["app"] = "agent" } },
                Template = new PodTemplateSpec
                {
                    Metadata = new ObjectMeta { Labels = new() { ["app"] = "agent" } },
                    Spec = new PodSpec { Containers = [new Container { Name = "agent", Image = "agent:1" }] },
                },
            },
        });

        var status = await ControllerCluster.EventuallyAsync(
            async () => (await cluster.Client.GetJsonAsync($"/apis/apps/v1/namespaces/{ns}/daemonsets/agent"))!["status"]!.AsObject(),
            s => (int?)s["numberAvailable"] == 1 && (long?)s["observedGeneration"] == 1,
            "the daemon pod available on the node");

        Assert.Equal(0, (int?)status["numberMisscheduled"]);
        Assert.Equal((1, 1, 1), ((int?)status["currentNumberScheduled"], (int?)status["desiredNumberScheduled"], (int?)status["numberReady"]));
        Assert.False(status.ContainsKey("numberUnavailable"), status.ToJsonString());
    }
}
