using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Objects;
using Kubesharp.ControllerManager.Ownership;
using Kubesharp.ControllerManager.Selection;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>Rolls Deployments out through ReplicaSets and reports rollout status.</summary>
internal sealed partial class DeploymentController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<Deployment> deployments = null!;
    private Lister<ReplicaSet> replicaSets = null!;
    private Lister<Pod> pods = null!;

    public DeploymentController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<DeploymentController>();
    }

    public string Name => "deployment";

    public void Register()
    {
        var deploymentInformer = context.Informers.Informer<Deployment>();
        var rsInformer = context.Informers.Informer<ReplicaSet>();
        var podInformer = context.Informers.Informer<Pod>();
        deployments = deploymentInformer.Lister;
        replicaSets = rsInformer.Lister;
        pods = podInformer.Lister;
        deploymentInformer.AddEventHandler(d => queue.Add(ObjectKey.Of(d)), (_, d) => queue.Add(ObjectKey.Of(d)), d => queue.Add(ObjectKey.Of(d)));
        rsInformer.AddEventHandler(
            EnqueueOwnerOrSelecting,
            (old, current) =>
            {
                if (Owner(old) is { } previous && previous != Owner(current))
                {
                    queue.Add(previous);
                }

                EnqueueOwnerOrSelecting(current);
            },
            rs =>
            {
                if (Owner(rs) is { } owner)
                {
                    queue.Add(owner);
                }
            });

        // Recreate waits for old pods to be gone, so their deletion is news.
        podInformer.AddEventHandler(onDelete: pod =>
        {
            var rsRef = ControllerRef.Of(pod.Metadata);
            if (rsRef?.Kind == ReplicaSet.KubeKind && rsRef.Name is { } rsName && replicaSets.Get(pod.Metadata?.Namespace, rsName) is { } rs && Owner(rs) is { } owner)
            {
                queue.Add(owner);
            }
        });
        syncs.Add(deploymentInformer.WaitForSyncAsync);
        syncs.Add(rsInformer.WaitForSyncAsync);
        syncs.Add(podInformer.WaitForSyncAsync);
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(context.Options.DeploymentWorkers, cancellationToken).ConfigureAwait(false);
    }

    private string? Owner(ReplicaSet rs)
    {
        var reference = ControllerRef.Of(rs.Metadata);
        return reference?.Kind == Deployment.KubeKind && reference.Name is { } name ? ObjectKey.Of(rs.Metadata?.Namespace, name) : null;
    }

    private void EnqueueOwnerOrSelecting(ReplicaSet rs)
    {
        if (Owner(rs) is { } owner)
        {
            queue.Add(owner);
            return;
        }

        foreach (var d in deployments.List(rs.Metadata?.Namespace ?? string.Empty))
        {
            if (LabelSelectorEvaluator.Matches(d.Spec?.Selector, rs.Metadata?.Labels))
            {
                queue.Add(ObjectKey.Of(d));
            }
        }
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        var cached = deployments.Get(ns, name);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var deployment = ObjectCopy.Clone(cached);
        var meta = deployment.Metadata!;
        var rsClient = context.Client.Resource<ReplicaSet>();
        var owned = await ControllerRefManager.ClaimAsync(
            rsClient,
            meta,
            ControllerRef.New(Deployment.KubeApiVersion, Deployment.KubeKind, meta),
            deployment.Spec?.Selector,
            replicaSets.List(ns),
            async ct =>
            {
                var fresh = await context.Client.Resource<Deployment>().GetAsync(ns, name, ct).ConfigureAwait(false);
                return fresh.Metadata?.Uid == meta.Uid && fresh.Metadata?.DeletionTimestamp is null;
            },
            cancellationToken).ConfigureAwait(false);

        var ownedUids = owned.Select(rs => rs.Metadata?.Uid).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var ownedPods = pods.List(ns).Where(p => ControllerRef.Of(p.Metadata)?.Uid is { } uid && ownedUids.Contains(uid)).ToList();
        var result = DeploymentSync.Run(deployment, owned, ownedPods, context.Time.GetUtcNow());
        foreach (var e in result.Events)
        {
            context.Events.Record(deployment, e.Type, e.Reason, e.Message);
        }

        foreach (var change in result.Changes)
        {
            switch (change.Kind)
            {
                case ReplicaSetChangeKind.Create:
                    if (!await CreateReplicaSetAsync(deployment, change.ReplicaSet, cancellationToken).ConfigureAwait(false))
                    {
                        // A name collision: the next reconcile picks it up (or uses the new collision count).
                        return ReconcileResult.RequeueIn(TimeSpan.Zero);
                    }

                    break;
                case ReplicaSetChangeKind.Update:
                    await rsClient.UpdateAsync(change.ReplicaSet, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case ReplicaSetChangeKind.Delete:
                    var rsMeta = change.ReplicaSet.Metadata!;
                    try
                    {
                        await rsClient.DeleteAsync(rsMeta.Namespace, rsMeta.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = rsMeta.Uid }, PropagationPolicy = "Background" }, cancellationToken).ConfigureAwait(false);
                    }
                    catch (StatusException e) when (e.IsNotFound())
                    {
                    }

                    break;
            }
        }

        var client = context.Client.Resource<Deployment>();
        if (result.Revision is { } revision)
        {
            deployment = await client.PatchAsync(ns, name, PatchType.Merge, MetadataPatch.Annotation(DeploymentAnnotations.Revision, revision), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (result.Status is { } status)
        {
            deployment.Status = status;
            await client.UpdateStatusAsync(deployment, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return result.RequeueAfter is { } after ? ReconcileResult.RequeueIn(after) : ReconcileResult.Done;
    }

    /// <summary>Creates the new ReplicaSet; false when its name is taken by a ReplicaSet with another template.</summary>
    private async Task<bool> CreateReplicaSetAsync(Deployment deployment, ReplicaSet replicaSet, CancellationToken cancellationToken)
    {
        var rsClient = context.Client.Resource<ReplicaSet>();
        try
        {
            await rsClient.CreateAsync(replicaSet, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
            var existing = await rsClient.GetAsync(replicaSet.Metadata!.Namespace, replicaSet.Metadata.Name!, cancellationToken).ConfigureAwait(false);
            if (ControllerRef.IsControlledBy(existing.Metadata, deployment.Metadata?.Uid) &&
                DeploymentSync.EqualIgnoreHash(existing.Spec?.Template, deployment.Spec?.Template))
            {
                return false;
            }

            deployment.Status ??= new DeploymentStatus();
            deployment.Status.CollisionCount = (deployment.Status.CollisionCount ?? 0) + 1;
            LogHashCollision(logger, deployment.Metadata?.Namespace, deployment.Metadata?.Name, replicaSet.Metadata.Name);
            await context.Client.Resource<Deployment>().UpdateStatusAsync(deployment, cancellationToken: cancellationToken).ConfigureAwait(false);
            return false;
        }
        catch (StatusException e)
        {
            if (DeploymentConditions.HasProgressDeadline(deployment))
            {
                deployment.Status ??= new DeploymentStatus();
                DeploymentConditions.Set(deployment.Status, DeploymentConditions.New(
                    DeploymentConditions.Progressing, "False", DeploymentConditions.ReplicaSetCreateError,
                    $"Failed to create new replica set \"{replicaSet.Metadata?.Name}\": {e.Message}", context.Time.GetUtcNow()));
                await context.Client.Resource<Deployment>().UpdateStatusAsync(deployment, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            context.Events.Record(deployment, "Warning", "FailedCreate", $"Failed to create new replica set \"{replicaSet.Metadata?.Name}\": {e.Message}");
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {Namespace}/{Name}: hash collision on ReplicaSet {ReplicaSet}, bumping collisionCount")]
    private static partial void LogHashCollision(ILogger logger, string? @namespace, string? name, string? replicaSet);
}
