using Grpc.Core;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.Kubelet.Csi.V1;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Csi;

/// <summary>
/// The attacher's half of VolumeAttachments (upstream: the external-attacher sidecar), done by the node agent for the
/// attachments to its own node of drivers registered on it. A driver with PUBLISH_UNPUBLISH_VOLUME gets
/// ControllerPublishVolume, its answer goes to status.attachmentMetadata, and the attachment carries the
/// external-attacher finalizer until ControllerUnpublishVolume succeeded on deletion; any other driver's attachments
/// are marked attached at once, as the external-attacher does for drivers without that capability.
/// </summary>
internal sealed partial class CsiAttacher : IDisposable
{
    private readonly KubernetesClient client;
    private readonly CsiDriverRegistry drivers;
    private readonly string nodeName;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly SharedInformer<VolumeAttachment> attachments;
    private readonly WorkQueue<string> queue;

    public CsiAttacher(KubernetesClient client, CsiDriverRegistry drivers, string nodeName, TimeProvider time, ILogger logger)
    {
        this.client = client;
        this.drivers = drivers;
        this.nodeName = nodeName;
        this.time = time;
        this.logger = logger;
        attachments = new SharedInformer<VolumeAttachment>(client.Resource<VolumeAttachment>(), null, time);
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(time), time);
    }

    /// <summary>The finalizer that keeps an attachment until its driver unpublished it (upstream's name).</summary>
    public static string Finalizer(string driver) => "external-attacher/" + driver.Replace('/', '-');

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        attachments.AddEventHandler(Enqueue, (_, a) => Enqueue(a));
        drivers.Changed += DriverChanged;
        var informing = attachments.RunAsync(cancellationToken);
        try
        {
            await attachments.WaitForSyncAsync(cancellationToken);
            await new ReconcileWorker("csi-attacher", queue, ReconcileAsync, logger).RunAsync(workers, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            drivers.Changed -= DriverChanged;
            queue.ShutDown();
            try
            {
                await informing;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public void Dispose() => queue.Dispose();

    private void Enqueue(VolumeAttachment attachment)
    {
        if (attachment.Spec?.NodeName == nodeName)
        {
            queue.Add(attachment.Metadata!.Name!);
        }
    }

    private void DriverChanged(string driver)
    {
        foreach (var attachment in attachments.Lister.List().Where(a => a.Spec?.Attacher == driver))
        {
            Enqueue(attachment);
        }
    }

    private async Task<ReconcileResult> ReconcileAsync(string name, CancellationToken cancellationToken)
    {
        if (attachments.Lister.Get(null, name) is not { Spec: { NodeName: { } node, Attacher: { } driverName } } cached || node != nodeName
            || drivers.Get(driverName) is not { } driver)
        {
            return ReconcileResult.Done;
        }

        var attachment = KubernetesJson.DeepCopy(cached);
        var finalizer = Finalizer(driverName);
        if (attachment.Metadata!.DeletionTimestamp is not null)
        {
            if (attachment.Metadata.Finalizers?.Contains(finalizer) != true)
            {
                return ReconcileResult.Done;
            }

            if (driver.PublishesToNodes && await HandleAsync(attachment, cancellationToken) is { } handle)
            {
                await driver.Client.ControllerUnpublishVolumeAsync(new ControllerUnpublishVolumeRequest { VolumeId = handle, NodeId = driver.NodeId }, cancellationToken);
            }

            attachment.Metadata.Finalizers.Remove(finalizer);
            await UpdateAsync(attachment, cancellationToken);
            LogDetached(logger, name);
            return ReconcileResult.Done;
        }

        if (attachment.Status?.Attached == true)
        {
            return ReconcileResult.Done;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (driver.PublishesToNodes)
        {
            if (await VolumeAsync(attachment, cancellationToken) is not { Spec.Csi: { VolumeHandle: { } handle } source } volume)
            {
                return ReconcileResult.Done;
            }

            // The finalizer first, so that an attachment deleted while publishing is still unpublished.
            if (attachment.Metadata.Finalizers?.Contains(finalizer) != true)
            {
                (attachment.Metadata.Finalizers ??= []).Add(finalizer);
                attachment = await UpdateAsync(attachment, cancellationToken);
                if (attachment is null)
                {
                    return ReconcileResult.Done;
                }
            }

            var request = new ControllerPublishVolumeRequest
            {
                VolumeId = handle,
                NodeId = driver.NodeId,
                Readonly = source.ReadOnly == true,
                VolumeCapability = new VolumeCapability
                {
                    Mount = new VolumeCapability.Types.MountVolume { FsType = source.FsType ?? "" },
                    AccessMode = new VolumeCapability.Types.AccessMode { Mode = CsiVolumes.AccessMode(volume.Spec.AccessModes) },
                },
            };
            request.VolumeContext.Add(source.VolumeAttributes ?? []);
            try
            {
                var published = await driver.Client.ControllerPublishVolumeAsync(request, cancellationToken);
                metadata = new Dictionary<string, string>(published.PublishContext, StringComparer.Ordinal);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                attachment.Status = new VolumeAttachmentStatus
                {
                    Attached = false,
                    AttachError = new VolumeError { Time = time.GetUtcNow(), Message = $"rpc error: code = {e.StatusCode} desc = {e.Status.Detail}" },
                };
                await UpdateStatusAsync(attachment, cancellationToken);
                throw;
            }
        }

        attachment.Status = new VolumeAttachmentStatus { Attached = true, AttachmentMetadata = metadata.Count > 0 ? metadata : null };
        await UpdateStatusAsync(attachment, cancellationToken);
        LogAttached(logger, name, driverName);
        return ReconcileResult.Done;
    }

    private async Task<PersistentVolume?> VolumeAsync(VolumeAttachment attachment, CancellationToken cancellationToken)
    {
        if (attachment.Spec?.Source?.PersistentVolumeName is not { } name)
        {
            return null;
        }

        try
        {
            return await client.Resource<PersistentVolume>().GetAsync(null, name, cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    private async Task<string?> HandleAsync(VolumeAttachment attachment, CancellationToken cancellationToken) =>
        (await VolumeAsync(attachment, cancellationToken))?.Spec?.Csi?.VolumeHandle;

    private async Task<VolumeAttachment?> UpdateAsync(VolumeAttachment attachment, CancellationToken cancellationToken)
    {
        try
        {
            return await client.Resource<VolumeAttachment>().UpdateAsync(attachment, cancellationToken: cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    private async Task UpdateStatusAsync(VolumeAttachment attachment, CancellationToken cancellationToken)
    {
        try
        {
            await client.Resource<VolumeAttachment>().UpdateStatusAsync(attachment, cancellationToken: cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "VolumeAttachment {Name} attached by CSI driver {Driver}")]
    private static partial void LogAttached(ILogger logger, string name, string driver);

    [LoggerMessage(Level = LogLevel.Information, Message = "VolumeAttachment {Name} detached")]
    private static partial void LogDetached(ILogger logger, string name);
}
