using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Volumes;
using Kubesharp.ControllerManager.Tests.Integration;

namespace Kubesharp.ControllerManager.Tests.Volumes;

/// <summary>The attach/detach controller through the real API server and binder, with pods on simulated nodes.</summary>
public sealed class AttachDetachIntegrationTests(VolumeCluster cluster) : IClassFixture<VolumeCluster>
{
    private KubernetesClient Client => cluster.Client;

    [Fact]
    public async Task AttachDetach_PodWithCsiClaims_AttachesWhatNeedsItAndDetachesOnlyWhatIsNotInUse()
    {
        var ns = await cluster.NewNamespaceAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var attachable = $"attach-{id}.example.com";
        var noAttach = $"noattach-{id}.example.com";
        var node = (await Client.Resource<Node>().ListAsync(null)).Items[0].Metadata!.Name!;
        await Client.Resource<CSIDriver>().CreateAsync(new CSIDriver
        {
            ApiVersion = CSIDriver.KubeApiVersion,
            Kind = CSIDriver.KubeKind,
            Metadata = new ObjectMeta { Name = noAttach },
            Spec = new CSIDriverSpec { AttachRequired = false },
        });
        // Two volumes of a driver without a CSIDriver object (attach required by default), one of a driver that says no.
        var volumes = new[] { ("a", attachable), ("b", attachable), ("c", noAttach) };
        foreach (var (name, driver) in volumes)
        {
            await CreateBoundClaimAsync(ns, $"{name}-{id}", driver);
        }

        await Client.Resource<Pod>().CreateAsync(new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta { Name = "user", Namespace = ns },
            Spec = new PodSpec
            {
                NodeName = node,
                Containers = [new Container { Name = "app", Image = "busybox" }],
                Volumes = [.. volumes.Select(v => new Volume { Name = v.Item1, PersistentVolumeClaim = new PersistentVolumeClaimVolumeSource { ClaimName = $"{v.Item1}-{id}" } })],
            },
        });

        var nameA = CsiAttachments.AttachmentName("handle-a-" + id, attachable, node);
        var nameB = CsiAttachments.AttachmentName("handle-b-" + id, attachable, node);
        var a = await ControllerCluster.EventuallyAsync(() => FindAsync(nameA), found => found is not null, "the attachment of volume a");
        Assert.Equal((attachable, node, "a-" + id), (a!.Spec!.Attacher, a.Spec.NodeName, a.Spec.Source!.PersistentVolumeName));
        await ControllerCluster.EventuallyAsync(() => FindAsync(nameB), found => found is not null, "the attachment of volume b");
        Assert.DoesNotContain((await Client.Resource<VolumeAttachment>().ListAsync(null)).Items, v => v.Spec?.Attacher == noAttach);

        // Attached (as the attacher reports it): the node's status lists the volume with its device path.
        a.Status = new VolumeAttachmentStatus { Attached = true, AttachmentMetadata = new() { ["devicePath"] = "/dev/a" } };
        await Client.Resource<VolumeAttachment>().UpdateStatusAsync(a);
        var uniqueA = CsiAttachments.UniqueVolumeName(attachable, "handle-a-" + id);
        await ControllerCluster.EventuallyAsync(
            () => Client.Resource<Node>().GetAsync(null, node),
            n => n.Status?.VolumesAttached?.Any(v => v.Name == uniqueA && v.DevicePath == "/dev/a") == true,
            "volumesAttached to list volume a");

        // The node still has volume a mounted: with the pod gone, b is detached and a is kept until the node lets go of it.
        await PatchVolumesInUseAsync(node, [uniqueA]);
        await Client.Resource<Pod>().DeleteAsync(ns, "user", new DeleteOptions { GracePeriodSeconds = 0 });
        await ControllerCluster.EventuallyAsync(() => FindAsync(nameB), found => found is null, "the attachment of volume b to be deleted");
        Assert.NotNull(await FindAsync(nameA));

        await PatchVolumesInUseAsync(node, []);
        await ControllerCluster.EventuallyAsync(() => FindAsync(nameA), found => found is null, "the attachment of volume a to be deleted");
        await ControllerCluster.EventuallyAsync(
            () => Client.Resource<Node>().GetAsync(null, node),
            n => n.Status?.VolumesAttached?.Any(v => v.Name == uniqueA) != true,
            "volumesAttached to drop volume a");
    }

    private async Task CreateBoundClaimAsync(string ns, string name, string driver)
    {
        await Client.Resource<PersistentVolume>().CreateAsync(new PersistentVolume
        {
            ApiVersion = "v1",
            Kind = "PersistentVolume",
            Metadata = new ObjectMeta { Name = name },
            Spec = new PersistentVolumeSpec
            {
                StorageClassName = "",
                Capacity = new() { ["storage"] = Quantity.Parse("1Gi") },
                AccessModes = ["ReadWriteOnce"],
                PersistentVolumeReclaimPolicy = "Retain",
                Csi = new CSIPersistentVolumeSource { Driver = driver, VolumeHandle = "handle-" + name },
            },
        });
        await Client.Resource<PersistentVolumeClaim>().CreateAsync(new PersistentVolumeClaim
        {
            ApiVersion = "v1",
            Kind = "PersistentVolumeClaim",
            Metadata = new ObjectMeta { Name = name, Namespace = ns },
            Spec = new PersistentVolumeClaimSpec
            {
                StorageClassName = "",
                VolumeName = name,
                AccessModes = ["ReadWriteOnce"],
                Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse("1Gi") } },
            },
        });
        await ControllerCluster.EventuallyAsync(() => Client.Resource<PersistentVolumeClaim>().GetAsync(ns, name), c => c.Status?.Phase == "Bound", $"claim {name} to bind");
    }

    private async Task PatchVolumesInUseAsync(string node, string[] inUse)
    {
        var patch = new JsonObject { ["status"] = new JsonObject { ["volumesInUse"] = new JsonArray([.. inUse.Select(v => (JsonNode?)JsonValue.Create(v))]) } };
        await Client.Resource<Node>().PatchAsync(null, node, PatchType.Merge, patch.ToJsonString(), subresource: "status");
    }

    private async Task<VolumeAttachment?> FindAsync(string name)
    {
        try
        {
            return await Client.Resource<VolumeAttachment>().GetAsync(null, name);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }
}
