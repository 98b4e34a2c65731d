using System.Diagnostics;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Tests.Volumes;

/// <summary>500 claims on a WaitForFirstConsumer class, each used by its own pod, on simulated nodes.</summary>
public sealed class ManyClaimsIntegrationTests(VolumeCluster cluster) : IClassFixture<VolumeCluster>
{
    private const int Count = 500;

    [Fact]
    public async Task FiveHundredClaims_EachWithItsPod_ProvisionedAndBoundOnTheirPodsNodesAcrossNodes()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = "many-" + Guid.NewGuid().ToString("N")[..8];
        await cluster.Client.Resource<StorageClass>().CreateAsync(new StorageClass
        {
            ApiVersion = "storage.k8s.io/v1",
            Kind = "StorageClass",
            Metadata = new ObjectMeta { Name = className },
            Provisioner = VolumeAnnotations.LocalPathProvisioner,
            VolumeBindingMode = VolumeAnnotations.WaitForFirstConsumer,
            ReclaimPolicy = "Delete",
        });
        var claims = cluster.Client.Resource<PersistentVolumeClaim>();
        var pods = cluster.Client.Resource<Pod>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var name = "data-" + i;
            await claims.CreateAsync(new PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = new ObjectMeta { Name = name, Namespace = ns },
                Spec = new PersistentVolumeClaimSpec
                {
                    StorageClassName = className,
                    AccessModes = ["ReadWriteOnce"],
                    Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse("1Gi") } },
                },
            }, cancellationToken: ct);
            await pods.CreateAsync(new Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new ObjectMeta { Name = "user-" + i, Namespace = ns },
                Spec = new PodSpec
                {
                    TerminationGracePeriodSeconds = 0,
                    Containers = [new Container { Name = "main", Image = "busybox", VolumeMounts = [new VolumeMount { Name = "data", MountPath = "/data" }] }],
                    Volumes = [new Volume { Name = "data", PersistentVolumeClaim = new PersistentVolumeClaimVolumeSource { ClaimName = name } }],
                },
            }, cancellationToken: ct);
        });

        var clock = Stopwatch.StartNew();
        IReadOnlyList<PersistentVolumeClaim> bound = [];
        while (clock.Elapsed < TimeSpan.FromMinutes(4))
        {
            bound = (await claims.ListAllAsync(ns)).Items.Where(c => c.Status?.Phase == "Bound").ToList();
            if (bound.Count == Count)
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(Count, bound.Count);
        var volumes = (await cluster.Client.Resource<PersistentVolume>().ListAllAsync(null)).Items
            .Where(v => v.Spec?.StorageClassName == className)
            .ToDictionary(v => v.Metadata!.Name!, StringComparer.Ordinal);
        Assert.Equal(Count, volumes.Count);
        var placed = (await pods.ListAllAsync(ns)).Items.ToDictionary(p => p.Metadata!.Name!, StringComparer.Ordinal);
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in bound)
        {
            var volume = volumes[claim.Spec!.VolumeName!];
            Assert.Equal(claim.Metadata!.Uid, volume.Spec!.ClaimRef!.Uid);
            Assert.Equal("Bound", volume.Status?.Phase);
            var node = Assert.Single(volume.Spec.NodeAffinity!.Required!.NodeSelectorTerms![0].MatchExpressions![0].Values!);
            Assert.Equal(placed["user-" + claim.Metadata.Name!["data-".Length..]].Spec!.NodeName, node);
            Assert.Equal(node, claim.Metadata.Annotations![VolumeAnnotations.SelectedNode]);
            nodes.Add(node);
        }

        // The scheduler spreads the pods, and with them their volumes.
        Assert.Equal(VolumeCluster.NodeCount, nodes.Count);

        // The namespace goes: pods, then claims, then (reclaim Delete) every volume.
        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
        var remaining = Count;
        while (clock.Elapsed < TimeSpan.FromMinutes(8) && remaining > 0)
        {
            await Task.Delay(500);
            remaining = (await cluster.Client.Resource<PersistentVolume>().ListAllAsync(null)).Items.Count(v => v.Spec?.StorageClassName == className);
        }

        Assert.Equal(0, remaining);
        await cluster.Client.Resource<StorageClass>().DeleteAsync(null, className);
    }
}
