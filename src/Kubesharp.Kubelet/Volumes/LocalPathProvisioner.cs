using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.Volumes;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Volumes;

/// <summary>
/// The built-in dynamic provisioner (<see cref="VolumeAnnotations.LocalPathProvisioner"/>), run by the node agent
/// for its own node(s): a claim handed to it (storage-provisioner annotation) whose selected node is served here
/// gets a directory under the storage directory and a hostPath PersistentVolume with node affinity to that node,
/// pre-bound to the claim; a Released volume it made with reclaim Delete loses its directory and is deleted; a bound
/// claim grown where the class allows it grows its volume (a directory has no size to change). Simulated nodes run
/// it without a storage directory: volumes are made on paper only.
/// </summary>
public sealed partial class LocalPathProvisioner
{
    private readonly KubernetesClient client;
    private readonly Func<string, bool> servesNode;
    private readonly string? storageDir;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly EventRecorder events;
    private readonly SharedInformer<PersistentVolumeClaim> claims;
    private readonly SharedInformer<PersistentVolume> volumes;
    private readonly SharedInformer<StorageClass> classes;
    private readonly ClaimLookup claimLookup;

    /// <param name="servesNode">Whether a node name is one this agent provisions for.</param>
    /// <param name="storageDir">Where volume directories go; null makes volumes without touching the disk.</param>
    public LocalPathProvisioner(KubernetesClient client, Func<string, bool> servesNode, string? storageDir, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(servesNode);
        this.client = client;
        this.servesNode = servesNode;
        this.storageDir = storageDir;
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        events = new EventRecorder(client, VolumeAnnotations.LocalPathProvisioner, timeProvider: time);
        claims = new SharedInformer<PersistentVolumeClaim>(client.Resource<PersistentVolumeClaim>(), null, time);
        volumes = new SharedInformer<PersistentVolume>(client.Resource<PersistentVolume>(), null, time);
        classes = new SharedInformer<StorageClass>(client.Resource<StorageClass>(), null, time);
        claimLookup = new ClaimLookup(claims.Lister, client.Resource<PersistentVolumeClaim>());
    }

    /// <summary>The directory of a claim's volume, named as k3s's provisioner names it.</summary>
    public static string DirectoryName(PersistentVolumeClaim claim) =>
        $"pvc-{claim.Metadata!.Uid}_{claim.Metadata.Namespace}_{claim.Metadata.Name}";

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        using var queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(time), time);
        claims.AddEventHandler(
            c => queue.Add(ClaimLookup.ClaimKey(c)),
            (_, c) => queue.Add(ClaimLookup.ClaimKey(c)),
            // A released volume whose claim this cache still held when the volume was looked at is looked at again
            // once the claim is gone from it too (the binder, on informers of its own, may release the volume first).
            c =>
            {
                if (c.Spec?.VolumeName is { Length: > 0 } volume)
                {
                    queue.Add(ClaimLookup.VolumeKey(volume));
                }
            });
        volumes.AddEventHandler(v => queue.Add(ClaimLookup.VolumeKey(v.Metadata!.Name!)), (_, v) => queue.Add(ClaimLookup.VolumeKey(v.Metadata!.Name!)));
        var running = new[] { claims.RunAsync(cancellationToken), volumes.RunAsync(cancellationToken), classes.RunAsync(cancellationToken), events.RunAsync(cancellationToken) };
        try
        {
            await Task.WhenAll(claims.WaitForSyncAsync(cancellationToken), volumes.WaitForSyncAsync(cancellationToken), classes.WaitForSyncAsync(cancellationToken)).ConfigureAwait(false);
            await new ReconcileWorker("local-path-provisioner", queue, ReconcileAsync, logger).RunAsync(workers, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            queue.ShutDown();
            foreach (var task in running)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    private Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken) =>
        ClaimLookup.IsClaimKey(key, out var rest) ? ReconcileClaimAsync(rest, cancellationToken) : ReconcileVolumeAsync(rest, cancellationToken);

    private async Task<ReconcileResult> ReconcileClaimAsync(string key, CancellationToken cancellationToken)
    {
        if (claimLookup.Get(key) is not { Metadata.DeletionTimestamp: null } claim
            || claim.Metadata.Annotations?.GetValueOrDefault(VolumeAnnotations.StorageProvisioner) != VolumeAnnotations.LocalPathProvisioner)
        {
            return ReconcileResult.Done;
        }

        var storageClass = classes.Lister.Get(null, claim.Spec?.StorageClassName ?? "");
        if (claim.Spec?.VolumeName is { Length: > 0 } bound)
        {
            await ExpandAsync(claim, bound, storageClass, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        if (claim.Metadata.Annotations.GetValueOrDefault(VolumeAnnotations.SelectedNode) is not { Length: > 0 } node || !servesNode(node)
            || storageClass?.Provisioner != VolumeAnnotations.LocalPathProvisioner)
        {
            return ReconcileResult.Done;
        }

        var volumeName = "pvc-" + claim.Metadata.Uid;
        if (volumes.Lister.Get(null, volumeName) is not null)
        {
            return ReconcileResult.Done;
        }

        var path = storageDir is null ? Path.Combine("/var/lib/kubesharp/storage", DirectoryName(claim)) : Path.Combine(storageDir, DirectoryName(claim));
        if (storageDir is not null)
        {
            Directory.CreateDirectory(path);
            FileModes.Set(path, Convert.ToInt32("777", 8));
        }

        var size = claim.Spec?.Resources?.Requests?.GetValueOrDefault("storage") ?? Quantity.Parse("1Gi");
        var volume = new PersistentVolume
        {
            ApiVersion = "v1",
            Kind = "PersistentVolume",
            Metadata = new ObjectMeta
            {
                Name = volumeName,
                Annotations = new() { [VolumeAnnotations.ProvisionedBy] = VolumeAnnotations.LocalPathProvisioner, ["local.path.provisioner/selected-node"] = node },
            },
            Spec = new PersistentVolumeSpec
            {
                AccessModes = claim.Spec?.AccessModes is { } modes ? [.. modes] : ["ReadWriteOnce"],
                Capacity = new() { ["storage"] = size },
                StorageClassName = claim.Spec?.StorageClassName,
                PersistentVolumeReclaimPolicy = storageClass.ReclaimPolicy ?? "Delete",
                VolumeMode = claim.Spec?.VolumeMode ?? "Filesystem",
                HostPath = new HostPathVolumeSource { Path = path, Type = "DirectoryOrCreate" },
                ClaimRef = new ObjectReference
                {
                    ApiVersion = "v1",
                    Kind = "PersistentVolumeClaim",
                    Namespace = claim.Metadata.Namespace,
                    Name = claim.Metadata.Name,
                    Uid = claim.Metadata.Uid,
                    ResourceVersion = claim.Metadata.ResourceVersion,
                },
                NodeAffinity = new VolumeNodeAffinity
                {
                    Required = new NodeSelector
                    {
                        NodeSelectorTerms = [new NodeSelectorTerm { MatchExpressions = [new NodeSelectorRequirement { Key = "kubernetes.io/hostname", Operator = "In", Values = [node] }] }],
                    },
                },
            },
        };
        try
        {
            await client.Resource<PersistentVolume>().CreateAsync(volume, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            return ReconcileResult.Done;
        }

        events.Record(claim, EventType.Normal, "ProvisioningSucceeded", $"Successfully provisioned volume {volumeName}");
        LogProvisioned(logger, claim.Metadata.Namespace ?? "", claim.Metadata.Name ?? "", volumeName, node);
        return ReconcileResult.Done;
    }

    /// <summary>A directory holds whatever it is given, so growing is only the volume's capacity; the binder copies it to the claim.</summary>
    private async Task ExpandAsync(PersistentVolumeClaim claim, string volumeName, StorageClass? storageClass, CancellationToken cancellationToken)
    {
        if (storageClass?.AllowVolumeExpansion != true || volumes.Lister.Get(null, volumeName) is not { } volume || !Owns(volume)
            || claim.Spec?.Resources?.Requests?.GetValueOrDefault("storage") is not { } requested
            || volume.Spec?.Capacity?.GetValueOrDefault("storage") is not { } capacity || requested <= capacity)
        {
            return;
        }

        var patch = "{\"spec\":{\"capacity\":{\"storage\":\"" + requested + "\"}}}";
        await client.Resource<PersistentVolume>().PatchAsync(null, volumeName, PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
        events.Record(claim, EventType.Normal, "VolumeResizeSuccessful", $"resize volume \"{volumeName}\" by resizer \"{VolumeAnnotations.LocalPathProvisioner}\" succeeded");
    }

    private async Task<ReconcileResult> ReconcileVolumeAsync(string name, CancellationToken cancellationToken)
    {
        if (volumes.Lister.Get(null, name) is not { } volume || !Owns(volume) || volume.Metadata?.DeletionTimestamp is not null
            || volume.Status?.Phase != "Released" || volume.Spec?.PersistentVolumeReclaimPolicy != "Delete")
        {
            return ReconcileResult.Done;
        }

        // Data goes only once the API too says the claim is gone.
        if (await claimLookup.BoundToAsync(volume, cancellationToken).ConfigureAwait(false) is not null)
        {
            return ReconcileResult.Done;
        }

        if (storageDir is not null && volume.Spec.HostPath?.Path is { } path
            && Path.GetFullPath(path).StartsWith(Path.GetFullPath(storageDir).TrimEnd('/') + "/", StringComparison.Ordinal) && Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        try
        {
            await client.Resource<PersistentVolume>().DeleteAsync(null, name, new DeleteOptions { Preconditions = new Preconditions { Uid = volume.Metadata!.Uid } }, cancellationToken).ConfigureAwait(false);
            LogDeleted(logger, name);
        }
        catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
        {
        }

        return ReconcileResult.Done;
    }

    /// <summary>Made by this provisioner for a node served here.</summary>
    private bool Owns(PersistentVolume volume) =>
        volume.Metadata?.Annotations?.GetValueOrDefault(VolumeAnnotations.ProvisionedBy) == VolumeAnnotations.LocalPathProvisioner
        && volume.Spec?.NodeAffinity?.Required?.NodeSelectorTerms is [{ MatchExpressions: [{ Key: "kubernetes.io/hostname", Values: [var node] }] }]
        && servesNode(node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Provisioned {Volume} for claim {Namespace}/{Name} on {Node}")]
    private static partial void LogProvisioned(ILogger logger, string @namespace, string name, string volume, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted released volume {Volume} and its data")]
    private static partial void LogDeleted(ILogger logger, string volume);
}
