using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Volumes;
using Kubesharp.Kubelet.Csi.V1;
using Kubesharp.Kubelet.Volumes;

namespace Kubesharp.Kubelet.Csi;

/// <summary>
/// Pod volumes served by CSI drivers (upstream's CSI volume plugin on the node): a claim bound to a PersistentVolume
/// with a <c>csi</c> source, or an inline <c>csi</c> volume. Setting up waits for the volume's VolumeAttachment to be
/// attached (when the driver needs attaching), stages the volume once per node at
/// DATA/plugins/kubernetes.io/csi/DRIVER/SHA256(HANDLE)/globalmount (when the driver stages), and publishes it to
/// DATA/pods/UID/volumes/kubernetes.io~csi/NAME/mount, which containers then mount like any volume. Tearing down
/// unpublishes, and unstages once no pod on the node uses the volume.
/// </summary>
internal sealed class CsiVolumes(KubernetesClient client, CsiDriverRegistry drivers, string podsDir, string pluginsDir, string nodeName)
{
    public const string PluginDirName = "kubernetes.io~csi";
    private const string PodInfoPrefix = "csi.storage.k8s.io/";
    private const string EphemeralMode = "Ephemeral";

    public async Task<string> SetUpPersistentAsync(Pod pod, string volumeName, PersistentVolume volume, bool readOnly, CancellationToken cancellationToken)
    {
        var source = volume.Spec!.Csi!;
        var driverName = source.Driver ?? throw new VolumeSetupException($"persistentvolume \"{volume.Metadata?.Name}\" has a csi source without a driver");
        var handle = source.VolumeHandle ?? throw new VolumeSetupException($"persistentvolume \"{volume.Metadata?.Name}\" has a csi source without a volumeHandle");
        var (target, dataPath) = Paths(pod.Metadata!.Uid!, volumeName);
        if (File.Exists(dataPath))
        {
            return target;
        }

        var driver = Registered(driverName);
        var csiDriver = await CsiDriverObjectAsync(driverName, cancellationToken);
        var publishContext = CsiAttachments.AttachRequired(csiDriver)
            ? await AttachedAsync(volume.Metadata!.Name!, driverName, handle, cancellationToken)
            : new Dictionary<string, string>();
        var capability = Capability(source.FsType, volume.Spec.MountOptions, volume.Spec.AccessModes);
        var context = VolumeContext(source.VolumeAttributes, pod, csiDriver, ephemeral: false);
        readOnly = readOnly || source.ReadOnly == true;
        string? staging = null;
        await CallAsync(async () =>
        {
            if (driver.StagesVolumes)
            {
                staging = StagingPath(driverName, handle);
                Directory.CreateDirectory(staging);
                var stage = new NodeStageVolumeRequest { VolumeId = handle, StagingTargetPath = staging, VolumeCapability = capability };
                stage.PublishContext.Add(publishContext);
                stage.VolumeContext.Add(context);
                await driver.Client.NodeStageVolumeAsync(stage, cancellationToken);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var publish = new NodePublishVolumeRequest
            {
                VolumeId = handle, StagingTargetPath = staging ?? "", TargetPath = target, VolumeCapability = capability, Readonly = readOnly,
            };
            publish.PublishContext.Add(publishContext);
            publish.VolumeContext.Add(context);
            await driver.Client.NodePublishVolumeAsync(publish, cancellationToken);
        });
        new CsiVolumeData(driverName, handle, volumeName, staging).Write(dataPath);
        return target;
    }

    /// <summary>An inline (ephemeral) volume: published only, under a handle made from the pod and volume.</summary>
    public async Task<string> SetUpInlineAsync(Pod pod, string volumeName, CSIVolumeSource source, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata!.Uid!;
        var driverName = source.Driver ?? throw new VolumeSetupException($"volume \"{volumeName}\" has a csi source without a driver");
        var (target, dataPath) = Paths(uid, volumeName);
        if (File.Exists(dataPath))
        {
            return target;
        }

        var driver = Registered(driverName);
        var csiDriver = await CsiDriverObjectAsync(driverName, cancellationToken);
        var modes = csiDriver?.Spec?.VolumeLifecycleModes is { Count: > 0 } listed ? listed : ["Persistent"];
        if (!modes.Contains(EphemeralMode))
        {
            throw new VolumeSetupException($"volume mode \"{EphemeralMode}\" not supported by driver {driverName} (only supports [\"{string.Join("\" \"", modes)}\"])");
        }

        var handle = InlineVolumeHandle(uid, volumeName);
        await CallAsync(async () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var publish = new NodePublishVolumeRequest
            {
                VolumeId = handle, TargetPath = target, VolumeCapability = Capability(source.FsType, null, null), Readonly = source.ReadOnly == true,
            };
            publish.VolumeContext.Add(VolumeContext(source.VolumeAttributes, pod, csiDriver, ephemeral: true));
            await driver.Client.NodePublishVolumeAsync(publish, cancellationToken);
        });
        new CsiVolumeData(driverName, handle, volumeName, null).Write(dataPath);
        return target;
    }

    /// <summary>Unpublishes the pod's CSI volumes, and unstages those no other pod here uses; throws while a driver is missing.</summary>
    public async Task TearDownAsync(string uid, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(podsDir, uid, "volumes", PluginDirName);
        if (!Directory.Exists(dir))
        {
            return;
        }

        foreach (var volumeDir in Directory.EnumerateDirectories(dir))
        {
            var dataPath = Path.Combine(volumeDir, CsiVolumeData.FileName);
            if (CsiVolumeData.Read(dataPath) is not { } data)
            {
                continue;
            }

            var driver = drivers.Get(data.Driver)
                ?? throw new VolumeSetupException($"kubernetes.io/csi: unmounter failed to get CSI client: driver name {data.Driver} not found in the list of registered CSI drivers");
            var target = Path.Combine(volumeDir, "mount");
            await CallAsync(() => driver.Client.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = data.VolumeHandle, TargetPath = target }, cancellationToken));
            File.Delete(dataPath);
            if (data.StagingTargetPath is { Length: > 0 } staging && !UsedElsewhere(data))
            {
                await CallAsync(() => driver.Client.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = data.VolumeHandle, StagingTargetPath = staging }, cancellationToken));
                RemoveEmpty(staging);
                RemoveEmpty(Path.GetDirectoryName(staging)!);
            }
        }
    }

    /// <summary>The unique names of the CSI volumes published on this node (the Node's status.volumesInUse).</summary>
    public IReadOnlyList<string> VolumesInUse() =>
        [.. PublishedVolumes().Select(d => CsiAttachments.UniqueVolumeName(d.Driver, d.VolumeHandle)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>upstream's CSI access mode for a volume's first access mode (ReadWriteOnce when it names none).</summary>
    internal static VolumeCapability.Types.AccessMode.Types.Mode AccessMode(IReadOnlyList<string>? accessModes) =>
        (accessModes is { Count: > 0 } ? accessModes[0] : "ReadWriteOnce") switch
        {
            "ReadOnlyMany" => VolumeCapability.Types.AccessMode.Types.Mode.MultiNodeReaderOnly,
            "ReadWriteMany" => VolumeCapability.Types.AccessMode.Types.Mode.MultiNodeMultiWriter,
            _ => VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter,
        };

    /// <summary>The staging path of a volume: one per driver and handle on the node, named by the handle's SHA-256.</summary>
    internal string StagingPath(string driver, string volumeHandle) =>
        Path.Combine(pluginsDir, "kubernetes.io", "csi", driver, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(volumeHandle))), "globalmount");

    /// <summary>An inline volume's handle: "csi-" and the hex SHA-256 of pod UID and volume name, as upstream.</summary>
    internal static string InlineVolumeHandle(string podUid, string volumeName) =>
        "csi-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(podUid + volumeName)));

    private (string Target, string DataPath) Paths(string uid, string volumeName)
    {
        var dir = Path.Combine(podsDir, uid, "volumes", PluginDirName, volumeName);
        return (Path.Combine(dir, "mount"), Path.Combine(dir, CsiVolumeData.FileName));
    }

    private CsiDriver Registered(string driverName) =>
        drivers.Get(driverName)
        ?? throw new VolumeSetupException($"kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name {driverName} not found in the list of registered CSI drivers");

    private async Task<CSIDriver?> CsiDriverObjectAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.Resource<CSIDriver>().GetAsync(null, name, cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    /// <summary>The publish context of the volume's attachment to this node, once attached.</summary>
    private async Task<Dictionary<string, string>> AttachedAsync(string volumeName, string driver, string handle, CancellationToken cancellationToken)
    {
        var name = CsiAttachments.AttachmentName(handle, driver, nodeName);
        VolumeAttachment attachment;
        try
        {
            attachment = await client.Resource<VolumeAttachment>().GetAsync(null, name, cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            throw new VolumeSetupException($"volume {volumeName} is waiting for its attachment to node {nodeName}: volumeattachment {name} does not exist yet");
        }

        if (attachment.Status?.Attached != true)
        {
            var error = attachment.Status?.AttachError?.Message is { Length: > 0 } message ? ": " + message : "";
            throw new VolumeSetupException($"volume {volumeName} is not attached to node {nodeName} yet (volumeattachment {name}){error}");
        }

        return attachment.Status.AttachmentMetadata ?? [];
    }

    private static VolumeCapability Capability(string? fsType, List<string>? mountOptions, List<string>? accessModes)
    {
        var mount = new VolumeCapability.Types.MountVolume { FsType = fsType ?? "" };
        mount.MountFlags.AddRange(mountOptions ?? []);
        return new VolumeCapability { Mount = mount, AccessMode = new VolumeCapability.Types.AccessMode { Mode = AccessMode(accessModes) } };
    }

    /// <summary>The volume's attributes, with the pod's identity when the CSIDriver asks for it (podInfoOnMount).</summary>
    private static Dictionary<string, string> VolumeContext(Dictionary<string, string>? attributes, Pod pod, CSIDriver? csiDriver, bool ephemeral)
    {
        var context = new Dictionary<string, string>(attributes ?? [], StringComparer.Ordinal);
        if (csiDriver?.Spec?.PodInfoOnMount == true)
        {
            context[PodInfoPrefix + "pod.name"] = pod.Metadata!.Name ?? "";
            context[PodInfoPrefix + "pod.namespace"] = pod.Metadata.Namespace ?? "default";
            context[PodInfoPrefix + "pod.uid"] = pod.Metadata.Uid ?? "";
            context[PodInfoPrefix + "serviceAccount.name"] = pod.Spec?.ServiceAccountName ?? "default";
            context[PodInfoPrefix + "ephemeral"] = ephemeral ? "true" : "false";
        }

        return context;
    }

    private bool UsedElsewhere(CsiVolumeData data) =>
        PublishedVolumes().Any(d => d.Driver == data.Driver && d.VolumeHandle == data.VolumeHandle);

    private IEnumerable<CsiVolumeData> PublishedVolumes()
    {
        if (!Directory.Exists(podsDir))
        {
            yield break;
        }

        foreach (var pod in Directory.EnumerateDirectories(podsDir))
        {
            var dir = Path.Combine(pod, "volumes", PluginDirName);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var volume in Directory.EnumerateDirectories(dir))
            {
                if (CsiVolumeData.Read(Path.Combine(volume, CsiVolumeData.FileName)) is { } data)
                {
                    yield return data;
                }
            }
        }
    }

    private static void RemoveEmpty(string dir)
    {
        try
        {
            if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
        catch (IOException)
        {
            // Still a mount point or refilled: left for the driver.
        }
    }

    /// <summary>A driver call whose failure becomes a mount error with the gRPC status, as upstream reports it.</summary>
    private static async Task CallAsync(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new VolumeSetupException($"rpc error: code = {e.StatusCode} desc = {e.Status.Detail}");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new VolumeSetupException("rpc error: code = Unavailable desc = " + e.Message);
        }
    }
}
