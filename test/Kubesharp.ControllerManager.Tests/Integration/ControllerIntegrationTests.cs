using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Deployments;

namespace Kubesharp.ControllerManager.Tests.Integration;

public sealed class ControllerIntegrationTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    private async Task<string> NewNamespaceAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await cluster.Client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = name } });
        return name;
    }

    private async Task<Deployment> CreateDeploymentAsync(string ns, string name, int replicas)
    {
        var deployment = Objects.Deployment(name, replicas);
        deployment.Metadata = new ObjectMeta { Name = name, Namespace = ns };
        return await cluster.Client.Resource<Deployment>().CreateAsync(deployment);
    }

    private Task<Deployment> WaitForRolloutAsync(string ns, string name, string revision) =>
        ControllerCluster.EventuallyAsync(
            () => cluster.Client.Resource<Deployment>().GetAsync(ns, name),
            d => d.Metadata?.Annotations?.GetValueOrDefault(DeploymentAnnotations.Revision) == revision &&
                 d.Status is { } s && s.ObservedGeneration >= d.Metadata.Generation && DeploymentConditions.IsComplete(d, s) &&
                 DeploymentConditions.Get(s, DeploymentConditions.Progressing)?.Reason == DeploymentConditions.NewReplicaSetAvailable,
            $"deployment {name} to complete revision {revision}");

    private async Task<List<ReplicaSet>> ReplicaSetsAsync(string ns) =>
        [.. (await cluster.Client.Resource<ReplicaSet>().ListAsync(ns)).Items];

    private async Task<List<Pod>> PodsAsync(string ns) =>
        [.. (await cluster.Client.Resource<Pod>().ListAsync(ns)).Items];

    [Fact]
    public async Task Deployment_Created_BecomesAvailableWithOwnedPods()
    {
        var ns = await NewNamespaceAsync();

        await CreateDeploymentAsync(ns, "web", 3);
        var deployment = await WaitForRolloutAsync(ns, "web", "1");

        Assert.Equal(3, deployment.Status!.AvailableReplicas);
        var available = DeploymentConditions.Get(deployment.Status, DeploymentConditions.Available)!;
        Assert.Equal(("True", DeploymentConditions.MinimumReplicasAvailable), (available.Status, available.Reason));
        var rs = Assert.Single(await ReplicaSetsAsync(ns));
        Assert.Equal(deployment.Metadata!.Uid, rs.Metadata!.OwnerReferences![0].Uid);
        Assert.Equal(3, rs.Status!.ReadyReplicas);
        var pods = await PodsAsync(ns);
        Assert.Equal(3, pods.Count);
        Assert.All(pods, p => Assert.StartsWith(rs.Metadata.Name + "-", p.Metadata!.Name, StringComparison.Ordinal));
        Assert.All(pods, p => Assert.Equal(rs.Metadata.Uid, p.Metadata!.OwnerReferences!.Single().Uid));
    }

    [Fact]
    public async Task Deployment_ImageChangedThenReverted_RollsOutAndBack()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "app", 2);
        await WaitForRolloutAsync(ns, "app", "1");
        var deployments = cluster.Client.Resource<Deployment>();
        const string setImage = """{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:2"}]}}}}""";

        await deployments.PatchAsync(ns, "app", PatchType.StrategicMerge, setImage);
        await WaitForRolloutAsync(ns, "app", "2");
        var afterUpdate = await ReplicaSetsAsync(ns);
        Assert.Equal(2, afterUpdate.Count);
        Assert.Equal(2, afterUpdate.Single(r => r.Spec!.Template!.Spec!.Containers![0].Image == "nginx:2").Spec!.Replicas);
        Assert.Equal(0, afterUpdate.Single(r => r.Spec!.Template!.Spec!.Containers![0].Image == "nginx:1").Spec!.Replicas);

        const string undo = """{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1"}]}}}}""";
        await deployments.PatchAsync(ns, "app", PatchType.StrategicMerge, undo);
        await WaitForRolloutAsync(ns, "app", "3");
        var afterUndo = await ReplicaSetsAsync(ns);
        Assert.Equal(2, afterUndo.Count);
        var reused = afterUndo.Single(r => r.Spec!.Template!.Spec!.Containers![0].Image == "nginx:1");
        Assert.Equal("3", reused.Metadata!.Annotations![DeploymentAnnotations.Revision]);
        Assert.Equal("1", reused.Metadata.Annotations[DeploymentAnnotations.RevisionHistory]);
        var pods = await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 2, "old pods to go");
        Assert.All(pods, p => Assert.Equal(reused.Metadata.Uid, p.Metadata!.OwnerReferences!.Single().Uid));
    }

    [Fact]
    public async Task ReplicaSet_PodDeleted_IsReplaced()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "heal", 2);
        await WaitForRolloutAsync(ns, "heal", "1");
        var victim = (await PodsAsync(ns))[0];

        await cluster.Client.Resource<Pod>().DeleteAsync(ns, victim.Metadata!.Name!, new DeleteOptions { GracePeriodSeconds = 0 });

        var pods = await ControllerCluster.EventuallyAsync(
            () => PodsAsync(ns),
            p => p.Count == 2 && p.All(x => x.Metadata!.Uid != victim.Metadata.Uid),
            "a replacement pod");
        Assert.Equal(2, pods.Count);
    }

    [Fact]
    public async Task Delete_Background_RemovesReplicaSetsAndPods()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "bg", 2);
        await WaitForRolloutAsync(ns, "bg", "1");

        await cluster.Client.Resource<Deployment>().DeleteAsync(ns, "bg", new DeleteOptions { PropagationPolicy = "Background" });

        await ControllerCluster.EventuallyAsync(() => ReplicaSetsAsync(ns), r => r.Count == 0, "replica sets to be collected");
        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 0, "pods to be collected");
    }

    [Fact]
    public async Task Delete_Foreground_KeepsOwnerUntilDependentsAreGone()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "fg", 2);
        await WaitForRolloutAsync(ns, "fg", "1");

        await cluster.Client.Resource<Deployment>().DeleteAsync(ns, "fg", new DeleteOptions { PropagationPolicy = "Foreground" });

        var held = await cluster.TryGetAsync<Deployment>(ns, "fg");
        Assert.NotNull(held);
        Assert.Contains("foregroundDeletion", held!.Metadata!.Finalizers!);
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<Deployment>(ns, "fg"), d => d is null, "the deployment to go");
        Assert.Empty(await ReplicaSetsAsync(ns));
        Assert.Empty(await PodsAsync(ns));
    }

    [Fact]
    public async Task Delete_Orphan_LeavesReplicaSetWithoutOwner()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "orph", 1);
        await WaitForRolloutAsync(ns, "orph", "1");

        await cluster.Client.Resource<Deployment>().DeleteAsync(ns, "orph", new DeleteOptions { PropagationPolicy = "Orphan" });

        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<Deployment>(ns, "orph"), d => d is null, "the deployment to go");
        var rs = Assert.Single(await ReplicaSetsAsync(ns));
        Assert.True(rs.Metadata!.OwnerReferences is null or { Count: 0 });
        Assert.Single(await PodsAsync(ns));
    }

    [Fact]
    public async Task Delete_Orphan_DependentSeenOnlyAfterTheOwnerWentIsOrphanedNotCollected()
    {
        var ns = await NewNamespaceAsync();
        var maps = cluster.Client.Resource<ConfigMap>();
        var owner = await maps.CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "owner", Namespace = ns } });
        await maps.DeleteAsync(ns, "owner", new DeleteOptions { PropagationPolicy = "Orphan" });
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ConfigMap>(ns, "owner"), m => m is null, "the owner to go");

        // Stands for a dependent written just before the orphaning deletion whose watch event reached the collector
        // after the owner's: the deletion asked for it to stay.
        var reference = new OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata!.Uid };
        await maps.CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "late", Namespace = ns, OwnerReferences = [reference] } });
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ConfigMap>(ns, "late"), m => m?.Metadata!.OwnerReferences is null or { Count: 0 }, "the reference to be dropped");

        // An owner that was never deleted with orphaning still takes its dependents with it.
        await maps.CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "stray", Namespace = ns, OwnerReferences = [reference with { Uid = Guid.NewGuid().ToString() }] } });
        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ConfigMap>(ns, "stray"), m => m is null, "the dependent of a missing owner to be collected");
        Assert.NotNull(await cluster.TryGetAsync<ConfigMap>(ns, "late"));
    }

    [Fact]
    public async Task ReplicationController_CreatedScaledAndDeleted_KeepsItsPodCountWithUpstreamsStatusAndEvents()
    {
        var ns = await NewNamespaceAsync();
        var controllers = cluster.Client.Resource<ReplicationController>();
        // No selector: the API takes the template's labels, as upstream defaults it.
        await controllers.CreateAsync(new ReplicationController
        {
            ApiVersion = "v1",
            Kind = "ReplicationController",
            Metadata = new ObjectMeta { Name = "legacy", Namespace = ns },
            Spec = new ReplicationControllerSpec { Replicas = 2, Template = Objects.Template("legacy", "nginx:1") },
        });
        Task<ReplicationController> WaitForAsync(int replicas) => ControllerCluster.EventuallyAsync(
            () => controllers.GetAsync(ns, "legacy"),
            rc => rc.Status is { } s && s.ObservedGeneration == rc.Metadata!.Generation && s.Replicas == replicas && s.ReadyReplicas == replicas &&
                  s.AvailableReplicas == replicas && s.FullyLabeledReplicas == replicas,
            $"the replication controller's {replicas} pods ready");

        var created = await WaitForAsync(2);
        var pods = await PodsAsync(ns);
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.StartsWith("legacy-", p.Metadata!.Name, StringComparison.Ordinal));
        var owner = pods[0].Metadata!.OwnerReferences!.Single();
        Assert.Equal(("v1", "ReplicationController", "legacy", created.Metadata!.Uid, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller));

        // A pod the controller owns is replaced; scaling up and down follows spec.replicas.
        await cluster.Client.Resource<Pod>().DeleteAsync(ns, pods[0].Metadata!.Name!, new DeleteOptions { GracePeriodSeconds = 0 });
        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 2 && p.All(x => x.Metadata!.Uid != pods[0].Metadata!.Uid), "a replacement pod");
        await controllers.PatchAsync(ns, "legacy", PatchType.Merge, """{"spec":{"replicas":3}}""");
        await WaitForAsync(3);
        await controllers.PatchAsync(ns, "legacy", PatchType.Merge, """{"spec":{"replicas":1}}""");
        await WaitForAsync(1);
        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count(x => x.Metadata!.DeletionTimestamp is null) == 1, "two pods deleted");

        // Events are about the ReplicationController, with the ReplicaSet controller's reasons.
        var events = await ControllerCluster.EventuallyAsync(
            async () => (await cluster.Client.Resource<Event>().ListAsync(ns)).Items,
            e => e.Count(x => x.Reason == "SuccessfulCreate") >= 4 && e.Count(x => x.Reason == "SuccessfulDelete") >= 2,
            "create and delete events");
        Assert.All(events.Where(e => e.Reason is "SuccessfulCreate" or "SuccessfulDelete"), e => Assert.Equal(("v1", "ReplicationController", "legacy"), (e.InvolvedObject!.ApiVersion, e.InvolvedObject.Kind, e.InvolvedObject.Name)));

        await controllers.DeleteAsync(ns, "legacy", new DeleteOptions { PropagationPolicy = "Background" });
        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 0, "the pods to be collected");
    }

    [Fact]
    public async Task Namespace_Created_GetsDefaultServiceAccount()
    {
        var ns = await NewNamespaceAsync();

        var sa = await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<ServiceAccount>(ns, "default"), s => s is not null, "the default service account");

        Assert.Equal("default", sa!.Metadata!.Name);
    }

    [Fact]
    public async Task Namespace_Deleted_ContentRemovedAndNamespaceGone()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "gone", 1);
        await cluster.Client.Resource<ConfigMap>().CreateAsync(new ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = new ObjectMeta { Name = "c", Namespace = ns } });
        await WaitForRolloutAsync(ns, "gone", "1");

        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);

        await ControllerCluster.EventuallyAsync(() => cluster.TryGetAsync<Namespace>(null, ns), n => n is null, "the namespace to be finalized");
        Assert.Empty(await PodsAsync(ns));
        Assert.Empty((await cluster.Client.Resource<ConfigMap>().ListAsync(ns)).Items);
    }

    [Fact]
    public async Task Evict_BudgetExhausted_TooManyRequestsThenAllowedAfterBudgetRelaxed()
    {
        var ns = await NewNamespaceAsync();
        await CreateDeploymentAsync(ns, "pdb", 2);
        await WaitForRolloutAsync(ns, "pdb", "1");
        var budgets = cluster.Client.Resource<Kubesharp.Api.Policy.V1.PodDisruptionBudget>();
        await budgets.CreateAsync(new Kubesharp.Api.Policy.V1.PodDisruptionBudget
        {
            ApiVersion = "policy/v1",
            Kind = "PodDisruptionBudget",
            Metadata = new ObjectMeta { Name = "budget", Namespace = ns },
            Spec = new Kubesharp.Api.Policy.V1.PodDisruptionBudgetSpec { MinAvailable = 2, Selector = new LabelSelector { MatchLabels = new() { ["app"] = "pdb" } } },
        });
        await ControllerCluster.EventuallyAsync(() => budgets.GetAsync(ns, "budget"), b => b.Status?.CurrentHealthy == 2 && b.Status.ObservedGeneration == b.Metadata!.Generation, "the budget status");
        var victim = (await PodsAsync(ns))[0].Metadata!.Name!;

        var refused = await Assert.ThrowsAsync<Kubesharp.ApiMachinery.Errors.StatusException>(() => cluster.Client.Resource<Pod>().EvictAsync(ns, victim));
        Assert.Equal(429, refused.Code);

        await budgets.PatchAsync(ns, "budget", PatchType.Merge, """{"spec":{"minAvailable":1}}""");
        await ControllerCluster.EventuallyAsync(() => budgets.GetAsync(ns, "budget"), b => b.Status?.DisruptionsAllowed == 1 && b.Status.ObservedGeneration == b.Metadata!.Generation, "the relaxed budget");
        await cluster.Client.Resource<Pod>().EvictAsync(ns, victim);

        await ControllerCluster.EventuallyAsync(() => PodsAsync(ns), p => p.Count == 2 && p.All(x => x.Metadata!.Name != victim), "a replacement for the evicted pod");
    }
}
