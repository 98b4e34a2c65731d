using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Volumes;

namespace Kubesharp.Kubelet.Tests.Volumes;

/// <summary>The local-path provisioner against a real API server, with no binder: the test moves the volume through its phases.</summary>
public sealed class LocalPathProvisionerTests
{
    [Fact]
    public async Task ReleasedVolume_ClaimStillCachedThenDeleted_DataAndVolumeDeleted()
    {
        await using var server = await TestApiServer.StartAsync();
        var storage = Directory.CreateTempSubdirectory("kslp-").FullName;
        using var stop = new CancellationTokenSource();
        var provisioner = new LocalPathProvisioner(server.Client, node => node == "lp-node", storage);
        var running = provisioner.RunAsync(1, stop.Token);
        try
        {
            var claims = server.Client.Resource<PersistentVolumeClaim>();
            var volumes = server.Client.Resource<PersistentVolume>();
            var claim = await claims.CreateAsync(new PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = new ObjectMeta { Name = "data", Namespace = "default" },
                Spec = new PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse("1Mi") } },
                    VolumeName = "pvc-data",
                },
            });
            var directory = Path.Combine(storage, "pvc-data");
            Directory.CreateDirectory(directory);
            var volume = await volumes.CreateAsync(new PersistentVolume
            {
                ApiVersion = "v1",
                Kind = "PersistentVolume",
                Metadata = new ObjectMeta { Name = "pvc-data", Annotations = new() { [VolumeAnnotations.ProvisionedBy] = VolumeAnnotations.LocalPathProvisioner } },
                Spec = new PersistentVolumeSpec
                {
                    Capacity = new() { ["storage"] = Quantity.Parse("1Mi") },
                    AccessModes = ["ReadWriteOnce"],
                    PersistentVolumeReclaimPolicy = "Delete",
                    HostPath = new HostPathVolumeSource { Path = directory },
                    ClaimRef = new ObjectReference { Kind = "PersistentVolumeClaim", Namespace = "default", Name = "data", Uid = claim.Metadata!.Uid },
                    NodeAffinity = new VolumeNodeAffinity
                    {
                        Required = new NodeSelector
                        {
                            NodeSelectorTerms = [new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "kubernetes.io/hostname", Operator = "In", Values = ["lp-node"] }] }],
                        },
                    },
                },
            });

            // Released while the provisioner still sees the claim (as when the binder's informers learn of its deletion
            // first): the data stays. Given time to look, it must not have deleted anything.
            volume.Status = new PersistentVolumeStatus { Phase = "Released" };
            await volumes.UpdateStatusAsync(volume);
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.True(Directory.Exists(directory));

            // The claim goes (its protection finalizer taken off, as no controller runs here): the volume goes with it.
            await claims.DeleteAsync("default", "data");
            if ((await claims.ListAsync("default")).Items.SingleOrDefault() is { } deleting)
            {
                deleting.Metadata!.Finalizers = null;
                await claims.UpdateAsync(deleting);
            }

            var deleted = false;
            for (var wait = System.Diagnostics.Stopwatch.StartNew(); !deleted && wait.Elapsed < TimeSpan.FromSeconds(30);)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50));
                deleted = await DeletedAsync(volumes, CancellationToken.None);
            }

            Assert.True(deleted, "the released volume was not deleted once its claim was gone");
            Assert.False(Directory.Exists(directory));
        }
        finally
        {
            await stop.CancelAsync();
            await running;
            Directory.Delete(storage, recursive: true);
        }
    }

    /// <summary>Gone, or marked deleted while its protection finalizer holds it.</summary>
    private static async Task<bool> DeletedAsync(ResourceClient<PersistentVolume> volumes, CancellationToken cancellationToken)
    {
        try
        {
            return (await volumes.GetAsync(null, "pvc-data", cancellationToken)).Metadata?.DeletionTimestamp is not null;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return true;
        }
    }
}
