using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.Volumes;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Volumes;

/// <summary>
/// upstream's attach/detach controller for CSI volumes: per node, the volumes that running pods there use through
/// bound claims on PersistentVolumes with a <c>csi</c> source get a VolumeAttachment (named as upstream's CSI
/// attacher names them) when their driver needs attaching (no CSIDriver, or attachRequired true); attachments no pod
/// needs any more are deleted once the node no longer lists the volume in status.volumesInUse (or the node is gone).
/// The node's status.volumesAttached lists the attached ones. Keys are node names.
/// </summary>
internal sealed partial class AttachDetachController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Pod> pods = null!;
    private Lister<PersistentVolumeClaim> claims = null!;
    private Lister<PersistentVolume> volumes = null!;
    private Lister<CSIDriver> drivers = null!;
    private Lister<VolumeAttachment> attachments = null!;
    private Lister<Node> nodes = null!;

    public AttachDetachController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<AttachDetachController>();
    }

    public string Name => "attachdetach";

    public void Register()
    {
        var podInformer = context.Informers.Informer<Pod>();
        var claimInformer = context.Informers.Informer<PersistentVolumeClaim>();
        var volumeInformer = context.Informers.Informer<PersistentVolume>();
        var driverInformer = context.Informers.Informer<CSIDriver>();
        var attachmentInformer = context.Informers.Informer<VolumeAttachment>();
        var nodeInformer = context.Informers.Informer<Node>();
        pods = podInformer.Lister;
        claims = claimInformer.Lister;
        volumes = volumeInformer.Lister;
        drivers = driverInformer.Lister;
        attachments = attachmentInformer.Lister;
        nodes = nodeInformer.Lister;
        podInformer.AddEventHandler(PodChanged, (old, pod) => { PodChanged(old); PodChanged(pod); }, PodChanged);
        claimInformer.AddEventHandler(ClaimChanged, (_, c) => ClaimChanged(c), ClaimChanged);
        volumeInformer.AddEventHandler(VolumeChanged, (_, v) => VolumeChanged(v), VolumeChanged);
        driverInformer.AddEventHandler(_ => EnqueueAll(), (_, _) => EnqueueAll(), _ => EnqueueAll());
        attachmentInformer.AddEventHandler(AttachmentChanged, (_, a) => AttachmentChanged(a), AttachmentChanged);
        nodeInformer.AddEventHandler(NodeChanged, (_, n) => NodeChanged(n), NodeChanged);
        syncs.Add(podInformer.WaitForSyncAsync);
        syncs.Add(claimInformer.WaitForSyncAsync);
        syncs.Add(volumeInformer.WaitForSyncAsync);
        syncs.Add(driverInformer.WaitForSyncAsync);
        syncs.Add(attachmentInformer.WaitForSyncAsync);
        syncs.Add(nodeInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.AttachDetachWorkers, cancellationToken).ConfigureAwait(false);
    }

    private void PodChanged(Pod pod)
    {
        if (pod.Spec?.NodeName is { Length: > 0 } node && pod.Spec.Volumes?.Any(v => v.PersistentVolumeClaim is not null) == true)
        {
            queue.Add(node);
        }
    }

    private void ClaimChanged(PersistentVolumeClaim claim)
    {
        foreach (var pod in pods.List(claim.Metadata?.Namespace ?? "default"))
        {
            if (pod.Spec?.Volumes?.Any(v => v.PersistentVolumeClaim?.ClaimName == claim.Metadata?.Name) == true)
            {
                PodChanged(pod);
            }
        }
    }

    private void VolumeChanged(PersistentVolume volume)
    {
        if (volume.Spec?.ClaimRef is { Name: { } name } reference && claims.Get(reference.Namespace ?? "default", name) is { } claim)
        {
            ClaimChanged(claim);
        }
    }

    private void AttachmentChanged(VolumeAttachment attachment)
    {
        if (attachment.Spec?.NodeName is { Length: > 0 } node)
        {
            queue.Add(node);
        }
    }

    private void NodeChanged(Node node) => queue.Add(node.Metadata!.Name!);

    private void EnqueueAll()
    {
        foreach (var node in pods.List().Select(p => p.Spec?.NodeName).Concat(attachments.List().Select(a => a.Spec?.NodeName)).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            queue.Add(node);
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string nodeName, CancellationToken cancellationToken)
    {
        var node = nodes.Get(null, nodeName);
        var desired = node is null ? [] : Desired(nodeName);
        var current = attachments.List().Where(a => a.Spec?.NodeName == nodeName && a.Spec.Source?.PersistentVolumeName is not null).ToList();
        foreach (var (name, (volume, driver)) in desired)
        {
            if (current.All(a => a.Metadata?.Name != name))
            {
                await CreateAsync(name, volume, driver, nodeName, cancellationToken).ConfigureAwait(false);
            }
        }

        var inUse = node?.Status?.VolumesInUse?.ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var attachment in current.Where(a => !desired.ContainsKey(a.Metadata!.Name!) && a.Metadata.DeletionTimestamp is null))
        {
            // Never detached while the node still has it mounted: the node's next status (without it) brings the node back here.
            if (UniqueName(attachment) is { } unique && inUse.Contains(unique))
            {
                continue;
            }

            try
            {
                await context.Client.Resource<VolumeAttachment>().DeleteAsync(null, attachment.Metadata!.Name!, cancellationToken: cancellationToken).ConfigureAwait(false);
                LogDetaching(logger, attachment.Metadata.Name!, nodeName);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }
        }

        if (node is not null)
        {
            await UpdateVolumesAttachedAsync(node, current, cancellationToken).ConfigureAwait(false);
        }

        return ReconcileResult.Done;
    }

    /// <summary>Attachment name → (volume, driver) for every attachable CSI volume a pod on the node still uses.</summary>
    private Dictionary<string, (string Volume, string Driver)> Desired(string nodeName)
    {
        var desired = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var pod in pods.List())
        {
            if (pod.Spec?.NodeName != nodeName || pod.Status?.Phase is "Succeeded" or "Failed")
            {
                continue;
            }

            foreach (var source in pod.Spec.Volumes ?? [])
            {
                if (source.PersistentVolumeClaim?.ClaimName is not { } claimName
                    || claims.Get(pod.Metadata?.Namespace ?? "default", claimName) is not { Spec.VolumeName: { Length: > 0 } volumeName }
                    || volumes.Get(null, volumeName) is not { Spec.Csi: { Driver: { } driver, VolumeHandle: { } handle } }
                    || !CsiAttachments.AttachRequired(drivers.Get(null, driver)))
                {
                    continue;
                }

                desired[CsiAttachments.AttachmentName(handle, driver, nodeName)] = (volumeName, driver);
            }
        }

        return desired;
    }

    private async Task CreateAsync(string name, string volume, string driver, string nodeName, CancellationToken cancellationToken)
    {
        try
        {
            await context.Client.Resource<VolumeAttachment>().CreateAsync(
                new VolumeAttachment
                {
                    ApiVersion = VolumeAttachment.KubeApiVersion,
                    Kind = VolumeAttachment.KubeKind,
                    Metadata = new ObjectMeta { Name = name },
                    Spec = new VolumeAttachmentSpec { Attacher = driver, NodeName = nodeName, Source = new VolumeAttachmentSource { PersistentVolumeName = volume } },
                },
                cancellationToken: cancellationToken).ConfigureAwait(false);
            LogAttaching(logger, name, volume, nodeName);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
        }
    }

    private string? UniqueName(VolumeAttachment attachment) =>
        volumes.Get(null, attachment.Spec!.Source!.PersistentVolumeName!)?.Spec?.Csi?.VolumeHandle is { } handle
            ? CsiAttachments.UniqueVolumeName(attachment.Spec.Attacher ?? "", handle)
            : null;

    /// <summary>The node's status.volumesAttached: its attached CSI volumes, with the device path the driver published.</summary>
    private async Task UpdateVolumesAttachedAsync(Node node, List<VolumeAttachment> current, CancellationToken cancellationToken)
    {
        var attached = current
            .Where(a => a.Status?.Attached == true && a.Metadata?.DeletionTimestamp is null)
            .Select(a => (Name: UniqueName(a), DevicePath: a.Status!.AttachmentMetadata?.GetValueOrDefault("devicePath") ?? ""))
            .Where(a => a.Name is not null)
            .OrderBy(a => a.Name, StringComparer.Ordinal)
            .ToList();
        var reported = (node.Status?.VolumesAttached ?? []).Select(v => (Name: v.Name, DevicePath: v.DevicePath ?? "")).ToList();
        if (attached.SequenceEqual(reported))
        {
            return;
        }

        var list = new JsonArray([.. attached.Select(a => (JsonNode?)new JsonObject { ["name"] = a.Name, ["devicePath"] = a.DevicePath })]);
        var patch = new JsonObject { ["status"] = new JsonObject { ["volumesAttached"] = list } }.ToJsonString();
        try
        {
            await context.Client.Resource<Node>().PatchAsync(null, node.Metadata!.Name!, PatchType.Merge, patch, subresource: "status", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "attaching volume {Volume} to node {Node}: VolumeAttachment {Name}")]
    private static partial void LogAttaching(ILogger logger, string name, string volume, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "detaching VolumeAttachment {Name} from node {Node}")]
    private static partial void LogDetaching(ILogger logger, string name, string node);
}
