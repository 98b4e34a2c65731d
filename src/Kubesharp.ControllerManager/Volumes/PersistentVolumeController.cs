using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.Volumes;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Volumes;

/// <summary>
/// Upstream's PersistentVolume binder with the protection controllers: binds claims to the best fitting volume
/// (or to the one either side names), hands claims nothing fits to their class's provisioner, keeps both phases,
/// releases volumes whose claim is gone and reclaims them (Retain keeps them Released; Delete is the provisioner's
/// work; a volume nothing can delete goes Failed), and removes the protection finalizers once no pod uses a
/// claim and no claim is bound to a volume. Keys are "claim:NS/NAME" and "volume:NAME".
/// </summary>
internal sealed partial class PersistentVolumeController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private readonly ResourceClient<PersistentVolumeClaim> claimClient;
    private readonly ResourceClient<PersistentVolume> volumeClient;
    private Lister<PersistentVolumeClaim> claims = null!;
    private ClaimLookup claimLookup = null!;
    private Lister<PersistentVolume> volumes = null!;
    private Lister<StorageClass> classes = null!;
    private Lister<Pod> pods = null!;
    private Lister<Node> nodes = null!;

    public PersistentVolumeController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<PersistentVolumeController>();
        claimClient = context.Client.Resource<PersistentVolumeClaim>();
        volumeClient = context.Client.Resource<PersistentVolume>();
    }

    public string Name => "persistentvolume-binder";

    public void Register()
    {
        var claimInformer = context.Informers.Informer<PersistentVolumeClaim>();
        var volumeInformer = context.Informers.Informer<PersistentVolume>();
        var classInformer = context.Informers.Informer<StorageClass>();
        var podInformer = context.Informers.Informer<Pod>();
        var nodeInformer = context.Informers.Informer<Node>();
        claims = claimInformer.Lister;
        claimLookup = new ClaimLookup(claims, claimClient);
        volumes = volumeInformer.Lister;
        classes = classInformer.Lister;
        pods = podInformer.Lister;
        nodes = nodeInformer.Lister;
        claimInformer.AddEventHandler(ClaimChanged, (_, c) => ClaimChanged(c), ClaimChanged);
        volumeInformer.AddEventHandler(VolumeChanged, (_, v) => VolumeChanged(v), VolumeChanged);
        classInformer.AddEventHandler(_ => EnqueuePendingClaims(), (_, _) => EnqueuePendingClaims());
        podInformer.AddEventHandler(PodChanged, (_, p) => PodChanged(p), PodChanged);
        syncs.Add(claimInformer.WaitForSyncAsync);
        syncs.Add(volumeInformer.WaitForSyncAsync);
        syncs.Add(classInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
        syncs.Add(nodeInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.PersistentVolumeWorkers, cancellationToken).ConfigureAwait(false);
    }

    private void ClaimChanged(PersistentVolumeClaim claim)
    {
        queue.Add(ClaimLookup.ClaimKey(claim));
        if (claim.Spec?.VolumeName is { Length: > 0 } volume)
        {
            queue.Add(ClaimLookup.VolumeKey(volume));
        }
    }

    private void VolumeChanged(PersistentVolume volume)
    {
        queue.Add(ClaimLookup.VolumeKey(volume.Metadata!.Name!));
        if (volume.Spec?.ClaimRef is { Name: { } name } reference)
        {
            queue.Add(ClaimLookup.ClaimKey(reference.Namespace, name));
        }
        else if (volume.Metadata.DeletionTimestamp is null)
        {
            EnqueuePendingClaims();
        }
    }

    private void EnqueuePendingClaims()
    {
        foreach (var claim in claims.List())
        {
            if (string.IsNullOrEmpty(claim.Spec?.VolumeName))
            {
                queue.Add(ClaimLookup.ClaimKey(claim));
            }
        }
    }

    /// <summary>A pod that comes, ends or goes can release a claim being deleted.</summary>
    private void PodChanged(Pod pod)
    {
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            if (volume.PersistentVolumeClaim?.ClaimName is { } name && claims.Get(pod.Metadata?.Namespace, name) is { Metadata.DeletionTimestamp: not null } claim)
            {
                queue.Add(ClaimLookup.ClaimKey(claim));
            }
        }
    }

    public Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken) =>
        ClaimLookup.IsClaimKey(key, out var rest) ? ReconcileClaimAsync(rest, cancellationToken) : ReconcileVolumeAsync(rest, cancellationToken);

    private async Task<ReconcileResult> ReconcileClaimAsync(string key, CancellationToken cancellationToken)
    {
        if (claimLookup.Get(key) is not { } claim)
        {
            return ReconcileResult.Done;
        }

        if (claim.Metadata?.DeletionTimestamp is not null)
        {
            await ReleaseClaimProtectionAsync(claim, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (string.IsNullOrEmpty(claim.Spec?.VolumeName))
        {
            await BindUnboundClaimAsync(claim, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        var volume = volumes.Get(null, claim.Spec.VolumeName) ?? await GetVolumeAsync(claim.Spec.VolumeName, cancellationToken).ConfigureAwait(false);
        if (volume is null)
        {
            if (claim.Status?.Phase == "Bound")
            {
                await SetClaimPhaseAsync(claim, "Lost", cancellationToken).ConfigureAwait(false);
                context.Events.Record(claim, EventType.Warning, "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!");
            }

            return ReconcileResult.Done;
        }

        if (volume.Spec?.ClaimRef is null || VolumeMatcher.IsPreBoundTo(volume, claim))
        {
            if (volume.Spec?.ClaimRef is null && !VolumeMatcher.Fits(claim, volume, null))
            {
                context.Events.Record(claim, EventType.Warning, "VolumeMismatch", "Cannot bind to requested volume \"" + volume.Metadata?.Name + "\": the volume does not satisfy the claim");
                return ReconcileResult.Done;
            }

            await BindAsync(claim, volume, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (claim.Status?.Phase == "Bound")
        {
            await SetClaimPhaseAsync(claim, "Lost", cancellationToken).ConfigureAwait(false);
            context.Events.Record(claim, EventType.Warning, "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly");
        }
        else
        {
            context.Events.Record(claim, EventType.Warning, "FailedBinding", "volume \"" + volume.Metadata?.Name + "\" already bound to a different claim.");
        }

        return ReconcileResult.Done;
    }

    private async Task BindUnboundClaimAsync(PersistentVolumeClaim claim, CancellationToken cancellationToken)
    {
        var className = claim.Spec?.StorageClassName ?? string.Empty;
        var storageClass = className.Length > 0 ? classes.Get(null, className) : null;
        var annotations = claim.Metadata?.Annotations;
        Node? selectedNode = null;
        if (storageClass?.VolumeBindingMode == VolumeAnnotations.WaitForFirstConsumer)
        {
            if (annotations?.GetValueOrDefault(VolumeAnnotations.SelectedNode) is not { Length: > 0 } nodeName)
            {
                await SetClaimPhaseAsync(claim, "Pending", cancellationToken).ConfigureAwait(false);
                context.Events.Record(claim, EventType.Normal, "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
                return;
            }

            selectedNode = nodes.Get(null, nodeName);
        }

        if (VolumeMatcher.FindBest(claim, volumes.List(), selectedNode) is { } volume)
        {
            await BindAsync(claim, volume, cancellationToken).ConfigureAwait(false);
            return;
        }

        await SetClaimPhaseAsync(claim, "Pending", cancellationToken).ConfigureAwait(false);
        if (storageClass is { Provisioner: { Length: > 0 } provisioner } && provisioner != VolumeAnnotations.NoProvisioner)
        {
            if (annotations?.GetValueOrDefault(VolumeAnnotations.StorageProvisioner) != provisioner)
            {
                var patch = "{\"metadata\":{\"annotations\":{\"" + VolumeAnnotations.StorageProvisioner + "\":" + Quote(provisioner)
                    + ",\"" + VolumeAnnotations.BetaStorageProvisioner + "\":" + Quote(provisioner) + "}}}";
                await claimClient.PatchAsync(claim.Metadata!.Namespace, claim.Metadata.Name!, PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            context.Events.Record(claim, EventType.Normal, "ExternalProvisioning",
                $"Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.");
            return;
        }

        var reason = className.Length == 0 ? "no persistent volumes available for this claim and no storage class is set"
            : storageClass is null ? $"storageclass.storage.k8s.io \"{className}\" not found"
            : "no persistent volumes available for this claim";
        context.Events.Record(claim, className.Length > 0 && storageClass is null ? EventType.Warning : EventType.Normal, "FailedBinding", reason);
    }

    /// <summary>
    /// Completes a binding in upstream's order: the volume's claimRef, its phase, the claim's volumeName and
    /// annotations, the claim's status. Each step is skipped when already done, so a retry resumes.
    /// </summary>
    private async Task BindAsync(PersistentVolumeClaim claim, PersistentVolume volume, CancellationToken cancellationToken)
    {
        var claimMeta = claim.Metadata!;
        var volumeName = volume.Metadata!.Name!;
        if (volume.Spec?.ClaimRef is not { } reference || reference.Uid != claimMeta.Uid || reference.Name != claimMeta.Name)
        {
            var updated = ObjectCopy.Clone(volume);
            updated.Spec ??= new PersistentVolumeSpec();
            if (updated.Spec.ClaimRef is null)
            {
                updated.Metadata!.Annotations ??= [];
                updated.Metadata.Annotations[VolumeAnnotations.BoundByController] = "yes";
            }

            updated.Spec.ClaimRef = new ObjectReference
            {
                Kind = "PersistentVolumeClaim",
                ApiVersion = "v1",
                Namespace = claimMeta.Namespace,
                Name = claimMeta.Name,
                Uid = claimMeta.Uid,
                ResourceVersion = claimMeta.ResourceVersion,
            };
            volume = await volumeClient.UpdateAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (volume.Status?.Phase != "Bound")
        {
            volume = await SetVolumePhaseAsync(volume, "Bound", null, null, cancellationToken).ConfigureAwait(false);
        }

        var annotations = claimMeta.Annotations;
        if (claim.Spec?.VolumeName != volumeName || annotations?.GetValueOrDefault(VolumeAnnotations.BindCompleted) != "yes")
        {
            var updated = ObjectCopy.Clone(claim);
            updated.Spec ??= new PersistentVolumeClaimSpec();
            updated.Metadata!.Annotations ??= [];
            if (updated.Spec.VolumeName != volumeName)
            {
                updated.Spec.VolumeName = volumeName;
                updated.Metadata.Annotations[VolumeAnnotations.BoundByController] = "yes";
            }

            updated.Metadata.Annotations[VolumeAnnotations.BindCompleted] = "yes";
            claim = await claimClient.UpdateAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var capacity = volume.Spec?.Capacity;
        if (claim.Status?.Phase != "Bound" || !ObjectCopy.SemanticEquals(claim.Status?.Capacity is null ? null : new PersistentVolumeClaimStatus { Capacity = claim.Status.Capacity }, capacity is null ? null : new PersistentVolumeClaimStatus { Capacity = capacity }))
        {
            var updated = ObjectCopy.Clone(claim);
            updated.Status ??= new PersistentVolumeClaimStatus();
            updated.Status.Phase = "Bound";
            updated.Status.AccessModes = volume.Spec?.AccessModes is { } modes ? [.. modes] : null;
            updated.Status.Capacity = capacity is null ? null : new(capacity);
            await claimClient.UpdateStatusAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
            LogBound(logger, claimMeta.Namespace ?? "", claimMeta.Name ?? "", volumeName);
        }
    }

    private async Task<ReconcileResult> ReconcileVolumeAsync(string name, CancellationToken cancellationToken)
    {
        if (volumes.Get(null, name) is not { } volume)
        {
            return ReconcileResult.Done;
        }

        var reference = volume.Spec?.ClaimRef;
        if (volume.Metadata?.DeletionTimestamp is not null && volume.Status?.Phase != "Bound")
        {
            await RemoveFinalizerAsync(volumeClient, volume.Metadata, VolumeAnnotations.VolumeProtection, cancellationToken).ConfigureAwait(false);
        }

        if (reference is null)
        {
            if (volume.Status?.Phase != "Available")
            {
                await SetVolumePhaseAsync(volume, "Available", null, null, cancellationToken).ConfigureAwait(false);
            }

            return ReconcileResult.Done;
        }

        if (string.IsNullOrEmpty(reference.Uid))
        {
            // Pre-bound by its author to a claim that is not bound yet: the claim's sync binds it.
            if (volume.Status?.Phase != "Available")
            {
                await SetVolumePhaseAsync(volume, "Available", null, null, cancellationToken).ConfigureAwait(false);
            }

            return ReconcileResult.Done;
        }

        var claim = await claimLookup.BoundToAsync(volume, cancellationToken).ConfigureAwait(false);
        if (claim is not null)
        {
            if (string.IsNullOrEmpty(claim.Spec?.VolumeName) || claim.Spec.VolumeName == name)
            {
                if (volume.Status?.Phase != "Bound")
                {
                    await SetVolumePhaseAsync(volume, "Bound", null, null, cancellationToken).ConfigureAwait(false);
                }

                queue.Add(ClaimLookup.ClaimKey(claim));
                return ReconcileResult.Done;
            }

            if (volume.Metadata?.Annotations?.GetValueOrDefault(VolumeAnnotations.BoundByController) == "yes")
            {
                // The claim went to another volume meanwhile: this one is free again.
                var updated = ObjectCopy.Clone(volume);
                updated.Spec!.ClaimRef = null;
                updated.Metadata!.Annotations!.Remove(VolumeAnnotations.BoundByController);
                volume = await volumeClient.UpdateAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
                await SetVolumePhaseAsync(volume, "Available", null, null, cancellationToken).ConfigureAwait(false);
            }

            return ReconcileResult.Done;
        }

        if (volume.Status?.Phase is not ("Released" or "Failed"))
        {
            volume = await SetVolumePhaseAsync(volume, "Released", null, null, cancellationToken).ConfigureAwait(false);
            LogReleased(logger, name);
        }

        if (volume.Status?.Phase == "Failed")
        {
            return ReconcileResult.Done;
        }

        switch (volume.Spec?.PersistentVolumeReclaimPolicy ?? "Retain")
        {
            case "Retain":
                break;
            case "Delete" when volume.Metadata?.Annotations?.GetValueOrDefault(VolumeAnnotations.ProvisionedBy) is { Length: > 0 } provisioner:
                context.Events.Record(volume, EventType.Normal, "ExternalDeleting", $"Waiting for a volume to be deleted either by the external provisioner '{provisioner}' or manually by the system administrator. If volume deletion is delayed, please verify that the provisioner is running and correctly registered.");
                break;
            case "Delete":
                var message = $"error getting deleter volume plugin for volume \"{name}\": no deletable volume plugin matched";
                await SetVolumePhaseAsync(volume, "Failed", "VolumeFailedDelete", message, cancellationToken).ConfigureAwait(false);
                context.Events.Record(volume, EventType.Warning, "VolumeFailedDelete", message);
                break;
            default:
                const string recycle = "No recycler plugin found for the volume!";
                await SetVolumePhaseAsync(volume, "Failed", "VolumeFailedRecycle", recycle, cancellationToken).ConfigureAwait(false);
                context.Events.Record(volume, EventType.Warning, "VolumeFailedRecycle", recycle);
                break;
        }

        return ReconcileResult.Done;
    }

    /// <summary>The pvc-protection finalizer goes once no pod that has not finished uses the claim, asked of the API rather than the cache.</summary>
    private async Task ReleaseClaimProtectionAsync(PersistentVolumeClaim claim, CancellationToken cancellationToken)
    {
        if (claim.Metadata?.Finalizers?.Contains(VolumeAnnotations.ClaimProtection) != true)
        {
            return;
        }

        var ns = claim.Metadata.Namespace!;
        var name = claim.Metadata.Name!;
        if (pods.List(ns).Any(p => Uses(p, name)))
        {
            return;
        }

        var live = await context.Client.Resource<Pod>().ListAllAsync(ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (live.Items.Any(p => Uses(p, name)))
        {
            return;
        }

        await RemoveFinalizerAsync(claimClient, claim.Metadata, VolumeAnnotations.ClaimProtection, cancellationToken).ConfigureAwait(false);
    }

    private static bool Uses(Pod pod, string claimName) =>
        pod.Status?.Phase is not ("Succeeded" or "Failed")
        && (pod.Spec?.Volumes ?? []).Any(v => v.PersistentVolumeClaim?.ClaimName == claimName);

    private static async Task RemoveFinalizerAsync<T>(ResourceClient<T> client, ObjectMeta meta, string finalizer, CancellationToken cancellationToken)
        where T : class, ApiMachinery.IKubernetesObject, ApiMachinery.IKubernetesKind, new()
    {
        if (meta.Finalizers?.Contains(finalizer) != true)
        {
            return;
        }

        var patch = MetadataPatch.Finalizers(meta, meta.Finalizers.Where(f => f != finalizer).ToList());
        await client.PatchAsync(meta.Namespace, meta.Name!, PatchType.Json, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task SetClaimPhaseAsync(PersistentVolumeClaim claim, string phase, CancellationToken cancellationToken)
    {
        if (claim.Status?.Phase == phase)
        {
            return;
        }

        var updated = ObjectCopy.Clone(claim);
        updated.Status ??= new PersistentVolumeClaimStatus();
        updated.Status.Phase = phase;
        await claimClient.UpdateStatusAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<PersistentVolume> SetVolumePhaseAsync(PersistentVolume volume, string phase, string? reason, string? message, CancellationToken cancellationToken)
    {
        var updated = ObjectCopy.Clone(volume);
        updated.Status ??= new PersistentVolumeStatus();
        updated.Status.Phase = phase;
        updated.Status.Reason = reason;
        updated.Status.Message = message;
        return await volumeClient.UpdateStatusAsync(updated, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<PersistentVolume?> GetVolumeAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await volumeClient.GetAsync(null, name, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value, Api.KubernetesJsonContext.Default.String);

    [LoggerMessage(Level = LogLevel.Information, Message = "Claim {Namespace}/{Name} bound to volume {Volume}")]
    private static partial void LogBound(ILogger logger, string @namespace, string name, string volume);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {Name} released: its claim is gone")]
    private static partial void LogReleased(ILogger logger, string name);
}
