using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Volumes;
using Kubesharp.ControllerManager;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Csi;
using Kubesharp.Kubelet.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.Csi;

/// <summary>
/// A CSI driver written here registers with a real node agent through plugins_registry; a claim on a volume with a
/// <c>csi</c> source is attached (VolumeAttachment, ControllerPublishVolume), staged and published into a pod on
/// containerd, then unpublished, unstaged and detached when the pod goes; inline ephemeral volumes are published
/// with the pod's identity.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class CsiEndToEndTests(NodeFixture fixture) : IAsyncLifetime, IDisposable
{
    private const string Ns = "default";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);
    private readonly string id = Guid.NewGuid().ToString("N")[..6];
    private readonly CancellationTokenSource stopping = new();
    private Task? controllers;

    private KubernetesClient Client => fixture.Client;

    public Task InitializeAsync()
    {
        Assert.Null(fixture.SkipReason);
        controllers = ControllerManager.ControllerManager.RunAsync(Client, new ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance, stopping.Token);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await stopping.CancelAsync();
        if (controllers is not null)
        {
            await controllers;
        }
    }

    public void Dispose() => stopping.Dispose();

    [RuntimeFact]
    public async Task CsiDriver_ClaimPodLifecycle_RegistersAttachesStagesPublishesThenTearsDown()
    {
        var driverName = $"d{id}.csi.kubesharp.test";
        var handle = "vol-" + id;
        var root = Path.Combine(fixture.Root, "csi-" + id);
        var driver = new TestCsiDriver(driverName, fixture.Options.PluginsRegistryDir, root, stages: true, controller: true);
        var pod = "csi-pod-" + id;
        try
        {
            await driver.StartAsync(CancellationToken.None);

            // Registered: CSINode carries the driver's node ID, topology key and volume limit; the Node its ID and topology.
            var entry = await WaitAsync(async () => (await CsiNodeDriverAsync(driverName)) is { } d ? d : null, "the driver in CSINode");
            Assert.Equal(driver.NodeId, entry.NodeID);
            Assert.Equal([TestCsiDriver.TopologyKey], entry.TopologyKeys);
            Assert.Equal(8, entry.Allocatable?.Count);
            var csiNode = await Client.Resource<CSINode>().GetAsync(null, fixture.NodeName);
            Assert.Equal(("Node", fixture.NodeName), (csiNode.Metadata!.OwnerReferences![0].Kind, csiNode.Metadata.OwnerReferences[0].Name));
            var node = await Client.Resource<Node>().GetAsync(null, fixture.NodeName);
            Assert.Equal(driver.NodeId, JsonNode.Parse(node.Metadata!.Annotations![CsiNodeWriter.NodeIdAnnotation])![driverName]!.GetValue<string>());
            Assert.Equal("zone-a", node.Metadata.Labels![TestCsiDriver.TopologyKey]);
            Assert.True(driver.Status?.PluginRegistered);

            // A volume with a csi source and a claim on it bind; a pod on the node writes into it.
            await Client.Resource<PersistentVolume>().CreateAsync(new PersistentVolume
            {
                ApiVersion = "v1",
                Kind = "PersistentVolume",
                Metadata = new ObjectMeta { Name = "csi-pv-" + id },
                Spec = new PersistentVolumeSpec
                {
                    Capacity = new() { ["storage"] = Quantity.Parse("1Gi") },
                    AccessModes = ["ReadWriteOnce"],
                    PersistentVolumeReclaimPolicy = "Retain",
                    StorageClassName = "",
                    Csi = new CSIPersistentVolumeSource { Driver = driverName, VolumeHandle = handle, FsType = "ext4", VolumeAttributes = new() { ["color"] = "blue" } },
                },
            });
            await Client.Resource<PersistentVolumeClaim>().CreateAsync(new PersistentVolumeClaim
            {
                ApiVersion = "v1",
                Kind = "PersistentVolumeClaim",
                Metadata = new ObjectMeta { Name = "csi-claim-" + id, Namespace = Ns },
                Spec = new PersistentVolumeClaimSpec
                {
                    AccessModes = ["ReadWriteOnce"],
                    StorageClassName = "",
                    VolumeName = "csi-pv-" + id,
                    Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse("1Gi") } },
                },
            });
            await WaitAsync(async () => (await Client.Resource<PersistentVolumeClaim>().GetAsync(Ns, "csi-claim-" + id)).Status?.Phase == "Bound" ? "" : null, "the claim to bind");
            await Client.Resource<Pod>().CreateAsync(PodWith(pod, new Volume { Name = "data", PersistentVolumeClaim = new PersistentVolumeClaimVolumeSource { ClaimName = "csi-claim-" + id } }));
            await WaitRunningAsync(pod);

            // What the pod wrote is in the driver's volume, reached through the staged and published bind mounts.
            var written = Path.Combine(driver.BackingDir, handle, "greeting");
            Assert.Equal("hello from " + pod + "\n", await WaitAsync(() => Task.FromResult(File.Exists(written) ? File.ReadAllText(written) : null), "the pod's file"));

            // Attached through a VolumeAttachment named as upstream names it, whose publish context reached NodeStageVolume.
            var attachmentName = CsiAttachments.AttachmentName(handle, driverName, fixture.NodeName);
            var attachment = await Client.Resource<VolumeAttachment>().GetAsync(null, attachmentName);
            Assert.Equal((driverName, fixture.NodeName, "csi-pv-" + id), (attachment.Spec!.Attacher, attachment.Spec.NodeName, attachment.Spec.Source!.PersistentVolumeName));
            Assert.True(attachment.Status!.Attached);
            Assert.Equal("/dev/fake-" + handle, attachment.Status.AttachmentMetadata!["devicePath"]);
            Assert.Contains(CsiAttacher.Finalizer(driverName), attachment.Metadata!.Finalizers!);
            var podUid = (await Client.Resource<Pod>().GetAsync(Ns, pod)).Metadata!.Uid!;
            var staging = Path.Combine(fixture.Options.PluginsDir, "kubernetes.io", "csi", driverName, Sha256(handle), "globalmount");
            var target = Path.Combine(fixture.Options.PodsDir, podUid, "volumes", "kubernetes.io~csi", "data", "mount");
            Assert.Contains($"ControllerPublishVolume:{handle}:{driver.NodeId}:SingleNodeWriter", driver.Calls);
            Assert.Contains($"NodeStageVolume:{handle}:{staging}:/dev/fake-{handle}:ext4", driver.Calls);
            Assert.Contains($"NodePublishVolume:{handle}:{staging}:{target}:False:SingleNodeWriter:color=blue", driver.Calls);

            // The node reports the volume in use and the controller reports it attached.
            var unique = CsiAttachments.UniqueVolumeName(driverName, handle);
            await WaitNodeAsync(n => n.Status?.VolumesInUse?.Contains(unique) == true && n.Status.VolumesAttached?.Any(v => v.Name == unique && v.DevicePath == "/dev/fake-" + handle) == true, "the volume in use and attached");

            // The pod goes: unpublished, unstaged, and only then detached (ControllerUnpublishVolume, attachment deleted).
            await Client.Resource<Pod>().DeleteAsync(Ns, pod, new DeleteOptions { GracePeriodSeconds = 0 });
            await WaitAsync(async () => await GoneAsync(Client.Resource<VolumeAttachment>(), null, attachmentName) ? "" : null, "the attachment to be deleted");
            var calls = driver.Calls.ToList();
            var unpublished = calls.IndexOf($"NodeUnpublishVolume:{handle}:{target}");
            var unstaged = calls.IndexOf($"NodeUnstageVolume:{handle}:{staging}");
            var detached = calls.IndexOf($"ControllerUnpublishVolume:{handle}:{driver.NodeId}");
            Assert.True(unpublished >= 0 && unstaged > unpublished && detached > unstaged, string.Join("\n", calls));
            Assert.False(Directory.Exists(staging));
            Assert.Equal("hello from " + pod + "\n", File.ReadAllText(written));
            await WaitNodeAsync(n => n.Status?.VolumesInUse is not { Count: > 0 }, "the volume no longer in use");
            await WaitNodeAsync(n => n.Status?.VolumesAttached is not { Count: > 0 }, "the volume no longer attached");

            // The registrar goes away: the driver leaves CSINode and the Node's annotation.
            await driver.StopRegistrationAsync();
            await WaitAsync(async () => await CsiNodeDriverAsync(driverName) is null ? "" : null, "the driver to leave CSINode");
            node = await Client.Resource<Node>().GetAsync(null, fixture.NodeName);
            Assert.DoesNotContain(driverName, node.Metadata!.Annotations?.GetValueOrDefault(CsiNodeWriter.NodeIdAnnotation) ?? "", StringComparison.Ordinal);
        }
        finally
        {
            await DeleteAsync(Client.Resource<Pod>(), Ns, pod);
            await DeleteAsync(Client.Resource<PersistentVolumeClaim>(), Ns, "csi-claim-" + id);
            await DeleteAsync(Client.Resource<PersistentVolume>(), null, "csi-pv-" + id);
            await driver.DisposeAsync();
            HostCleanup.UnmountUnder(root);
            HostCleanup.UnmountUnder(Path.Combine(fixture.Options.PluginsDir, "kubernetes.io", "csi", driverName));
        }
    }

    [RuntimeFact]
    public async Task CsiDriver_InlineEphemeralVolume_PublishedWithPodInfoWithoutAttachment()
    {
        var driverName = $"i{id}.csi.kubesharp.test";
        var root = Path.Combine(fixture.Root, "csi-" + id);
        var driver = new TestCsiDriver(driverName, fixture.Options.PluginsRegistryDir, root, stages: false, controller: false);
        var pod = "csi-inline-" + id;
        try
        {
            await Client.Resource<CSIDriver>().CreateAsync(new CSIDriver
            {
                ApiVersion = CSIDriver.KubeApiVersion,
                Kind = CSIDriver.KubeKind,
                Metadata = new ObjectMeta { Name = driverName },
                Spec = new CSIDriverSpec { AttachRequired = false, PodInfoOnMount = true, VolumeLifecycleModes = ["Ephemeral"] },
            });
            await driver.StartAsync(CancellationToken.None);
            await WaitAsync(async () => (await CsiNodeDriverAsync(driverName)) is { } d ? d : null, "the driver in CSINode");

            await Client.Resource<Pod>().CreateAsync(PodWith(pod, new Volume
            {
                Name = "data",
                Csi = new CSIVolumeSource { Driver = driverName, VolumeAttributes = new() { ["size"] = "small" } },
            }));
            var running = await WaitRunningAsync(pod);
            var uid = running.Metadata!.Uid!;
            var handle = CsiVolumes.InlineVolumeHandle(uid, "data");
            var written = Path.Combine(driver.BackingDir, handle, "greeting");
            Assert.Equal("hello from " + pod + "\n", await WaitAsync(() => Task.FromResult(File.Exists(written) ? File.ReadAllText(written) : null), "the pod's file"));

            var target = Path.Combine(fixture.Options.PodsDir, uid, "volumes", "kubernetes.io~csi", "data", "mount");
            var context = $"csi.storage.k8s.io/ephemeral=true,csi.storage.k8s.io/pod.name={pod},csi.storage.k8s.io/pod.namespace={Ns},csi.storage.k8s.io/pod.uid={uid},csi.storage.k8s.io/serviceAccount.name=default,size=small";
            Assert.Contains($"NodePublishVolume:{handle}::{target}:False:SingleNodeWriter:{context}", driver.Calls);
            Assert.DoesNotContain(driver.Calls, c => c.StartsWith("NodeStageVolume", StringComparison.Ordinal) || c.StartsWith("ControllerPublishVolume", StringComparison.Ordinal));
            Assert.DoesNotContain((await Client.Resource<VolumeAttachment>().ListAsync(null)).Items, a => a.Spec?.Attacher == driverName);

            await Client.Resource<Pod>().DeleteAsync(Ns, pod, new DeleteOptions { GracePeriodSeconds = 0 });
            await WaitAsync(() => Task.FromResult(driver.Calls.Contains($"NodeUnpublishVolume:{handle}:{target}") ? "" : null), "the volume to be unpublished");
        }
        finally
        {
            await DeleteAsync(Client.Resource<Pod>(), Ns, pod);
            await DeleteAsync(Client.Resource<CSIDriver>(), null, driverName);
            await driver.DisposeAsync();
            HostCleanup.UnmountUnder(root);
        }
    }

    /// <summary>A pod bound to the node directly (no scheduler runs here) that writes a greeting into the volume.</summary>
    private Pod PodWith(string name, Volume volume) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new PodSpec
        {
            NodeName = fixture.NodeName,
            TerminationGracePeriodSeconds = 0,
            Volumes = [volume],
            Containers =
            [
                new Container
                {
                    Name = "app",
                    Image = NodeFixture.BusyboxImage,
                    ImagePullPolicy = "Never",
                    Command = ["sh", "-c", $"echo hello from {name} > /data/greeting; exec sleep 3600"],
                    VolumeMounts = [new VolumeMount { Name = volume.Name, MountPath = "/data" }],
                },
            ],
        },
    };

    private async Task<CSINodeDriver?> CsiNodeDriverAsync(string driver)
    {
        try
        {
            return (await Client.Resource<CSINode>().GetAsync(null, fixture.NodeName)).Spec?.Drivers?.FirstOrDefault(d => d.Name == driver);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    /// <summary>The running pod; on a timeout the failure shows its status and events (a mount error says why).</summary>
    private async Task<Pod> WaitRunningAsync(string name)
    {
        try
        {
            return await WaitAsync(async () => await Client.Resource<Pod>().GetAsync(Ns, name) is { Status.Phase: "Running" } p ? p : null, "pod " + name + " to run");
        }
        catch (TimeoutException e)
        {
            var pod = await Client.Resource<Pod>().GetAsync(Ns, name);
            var events = (await Client.Resource<Event>().ListAsync(Ns)).Items.Where(v => v.InvolvedObject?.Name == name).Select(v => v.Reason + ": " + v.Message);
            throw new TimeoutException(e.Message + ": " + System.Text.Encoding.UTF8.GetString(KubernetesJson.Serialize(pod.Status)) + "\n" + string.Join("\n", events), e);
        }
    }

    private async Task WaitNodeAsync(Func<Node, bool> predicate, string what) =>
        await WaitAsync(async () => predicate(await Client.Resource<Node>().GetAsync(null, fixture.NodeName)) ? "" : null, what);

    private static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static async Task<bool> GoneAsync<T>(ResourceClient<T> resource, string? ns, string name)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        try
        {
            await resource.GetAsync(ns, name);
            return false;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return true;
        }
    }

    private static async Task DeleteAsync<T>(ResourceClient<T> resource, string? ns, string name)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        try
        {
            await resource.DeleteAsync(ns, name, new DeleteOptions { GracePeriodSeconds = 0 });
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    private static async Task<T> WaitAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(250);
        }
    }
}
