using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Tests.Integration;

public sealed class StatefulSetIntegrationTests
{
    private const string Ns = "default";

    private static StatefulSet Set(int replicas, string image) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "StatefulSet",
        Metadata = new ObjectMeta { Name = "db", Namespace = Ns },
        Spec = new StatefulSetSpec
        {
            Replicas = replicas,
            ServiceName = "db",
            Selector = new LabelSelector { MatchLabels = new() { ["app"] = "db" } },
            PersistentVolumeClaimRetentionPolicy = new StatefulSetPersistentVolumeClaimRetentionPolicy { WhenScaled = "Delete", WhenDeleted = "Retain" },
            VolumeClaimTemplates =
            [
                new PersistentVolumeClaim
                {
                    Metadata = new ObjectMeta { Name = "data" },
                    Spec = new PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse("1Gi") } } },
                },
            ],
            Template = new PodTemplateSpec
            {
                Metadata = new ObjectMeta { Labels = new() { ["app"] = "db" } },
                Spec = new PodSpec { TerminationGracePeriodSeconds = 1, Containers = [new Container { Name = "db", Image = image }] },
            },
        },
    };

    private static Task<StatefulSet> WaitForAsync(ResourceClient<StatefulSet> sets, Func<StatefulSetStatus, bool> condition, string what) =>
        ControllerCluster.EventuallyAsync(() => sets.GetAsync(Ns, "db"), s => s.Status is { } st && st.ObservedGeneration == s.Metadata?.Generation && condition(st), what);

    private static async Task<List<string>> ClaimNamesAsync(KubernetesClient client) =>
        [.. (await client.Resource<PersistentVolumeClaim>().ListAsync(Ns)).Items.Where(c => c.Metadata?.DeletionTimestamp is null).Select(c => c.Metadata!.Name!).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task StatefulSet_OrderedReady_ComesUpInOrderScalesDownInReverseAndRollsWithPartition()
    {
        await using var cluster = await SimulatedNodeCluster.StartAsync(2);
        await using var history = new PodHistory(cluster.Client, Ns);
        await history.Started;
        var sets = cluster.Client.Resource<StatefulSet>();

        await sets.CreateAsync(Set(3, "db:1"));
        var ready = await WaitForAsync(sets, s => s.ReadyReplicas == 3 && s.AvailableReplicas == 3, "three ready replicas");

        // Each pod is created only once the one before it is Ready.
        Assert.Equal(["db-0", "db-1", "db-2"], history.Of("created"));
        var entries = history.Entries.ToList();
        Assert.True(entries.IndexOf("ready db-0") < entries.IndexOf("created db-1"), string.Join(", ", entries));
        Assert.True(entries.IndexOf("ready db-1") < entries.IndexOf("created db-2"), string.Join(", ", entries));
        var pod = await cluster.Client.Resource<Pod>().GetAsync(Ns, "db-1");
        Assert.Equal("db-1", pod.Spec!.Hostname);
        Assert.Equal("db", pod.Spec.Subdomain);
        Assert.Equal("1", pod.Metadata!.Labels!["apps.kubernetes.io/pod-index"]);
        Assert.Equal("db-1", pod.Metadata.Labels["statefulset.kubernetes.io/pod-name"]);
        Assert.Equal(ready.Status!.UpdateRevision, pod.Metadata.Labels["controller-revision-hash"]);
        Assert.Equal("data-db-1", pod.Spec.Volumes!.Single(v => v.Name == "data").PersistentVolumeClaim!.ClaimName);
        Assert.Equal(["data-db-0", "data-db-1", "data-db-2"], await ClaimNamesAsync(cluster.Client));
        Assert.Equal(ready.Status.CurrentRevision, ready.Status.UpdateRevision);

        // Scale down: highest ordinal first, and whenScaled=Delete takes the claims of the removed ordinals along.
        var scaled = await sets.GetAsync(Ns, "db");
        scaled.Spec!.Replicas = 1;
        await sets.UpdateAsync(scaled);
        await WaitForAsync(sets, s => s.Replicas == 1 && s.ReadyReplicas == 1, "one replica");
        Assert.Equal(["db-2", "db-1"], history.Of("deleting"));
        await ControllerCluster.EventuallyAsync(() => ClaimNamesAsync(cluster.Client), c => c.SequenceEqual(["data-db-0"]), "the scaled-away claims deleted");

        // Back to three, then a new image with partition 2: only db-2 moves.
        var update = await sets.GetAsync(Ns, "db");
        update.Spec!.Replicas = 3;
        update.Spec.UpdateStrategy = new StatefulSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new RollingUpdateStatefulSetStrategy { Partition = 2 } };
        update.Spec.Template!.Spec!.Containers![0].Image = "db:2";
        await sets.UpdateAsync(update);
        var partitioned = await WaitForAsync(sets, s => s.Replicas == 3 && s.ReadyReplicas == 3 && s.UpdatedReplicas == 1, "partitioned roll out");
        Assert.NotEqual(partitioned.Status!.CurrentRevision, partitioned.Status.UpdateRevision);
        Assert.Equal(2, partitioned.Status.CurrentReplicas);
        var images = new List<string>();
        foreach (var name in new[] { "db-0", "db-1", "db-2" })
        {
            images.Add((await cluster.Client.Resource<Pod>().GetAsync(Ns, name)).Spec!.Containers![0].Image!);
        }

        Assert.Equal(["db:1", "db:1", "db:2"], images);

        // Partition 0 finishes the roll out from the top down; the update revision becomes current.
        var finish = await sets.GetAsync(Ns, "db");
        finish.Spec!.UpdateStrategy!.RollingUpdate!.Partition = 0;
        await sets.UpdateAsync(finish);
        var done = await WaitForAsync(sets, s => s.UpdatedReplicas == 3 && s.ReadyReplicas == 3 && s.CurrentRevision == s.UpdateRevision, "complete roll out");
        Assert.Equal(3, done.Status!.CurrentReplicas);
        // Scale down took db-2 and db-1; scaling up again created db-1 at the current revision (below the
        // partition) and db-2 at the update revision; partition 0 then replaced db-1 and db-0.
        Assert.Equal(["db-2", "db-1", "db-1", "db-0"], history.Of("deleting"));
        var revisions = (await cluster.Client.Resource<ControllerRevision>().ListAsync(Ns)).Items;
        Assert.Equal([1L, 2L], revisions.Select(r => r.Revision ?? 0).Order());
        Assert.All(revisions, r => Assert.Equal(done.Metadata!.Uid, r.Metadata!.OwnerReferences![0].Uid));
    }

    [Fact]
    public async Task StatefulSet_Parallel_CreatesAllPodsWithoutWaiting()
    {
        await using var cluster = await SimulatedNodeCluster.StartAsync(1);
        var sets = cluster.Client.Resource<StatefulSet>();
        var set = Set(4, "db:1");
        set.Spec!.PodManagementPolicy = "Parallel";
        set.Spec.Ordinals = new StatefulSetOrdinals { Start = 3 };

        await sets.CreateAsync(set);
        await WaitForAsync(sets, s => s.ReadyReplicas == 4, "four ready replicas");

        var names = (await cluster.Client.Resource<Pod>().ListAsync(Ns)).Items.Select(p => p.Metadata!.Name!).Order(StringComparer.Ordinal);
        Assert.Equal(["db-3", "db-4", "db-5", "db-6"], names);
    }
}
