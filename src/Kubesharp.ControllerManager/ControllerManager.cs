using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.LeaderElection;
using Kubesharp.ControllerManager.CronJobs;
using Kubesharp.ControllerManager.Deployments;
using Kubesharp.ControllerManager.Disruption;
using Kubesharp.ControllerManager.Endpoints;
using Kubesharp.ControllerManager.GarbageCollection;
using Kubesharp.ControllerManager.Jobs;
using Kubesharp.ControllerManager.Namespaces;
using Kubesharp.ControllerManager.NodeLifecycle;
using Kubesharp.ControllerManager.PodGarbageCollection;
using Kubesharp.ControllerManager.ReplicaSets;
using Kubesharp.ControllerManager.ServiceAccounts;
using Kubesharp.ControllerManager.TtlAfterFinished;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager;

/// <summary>
/// Runs the built-in controllers over one set of shared informers: ReplicaSet, Deployment, StatefulSet, DaemonSet, garbage collector,
/// namespace, node lifecycle (with taint eviction), node IPAM, ServiceAccount, pod garbage collection, disruption budgets,
/// EndpointSlices and Endpoints, Job, CronJob, TTL-after-finished, HorizontalPodAutoscaler, the PersistentVolume binder and the
/// certificate signing, approving and cleaning controllers.
/// </summary>
public static class ControllerManager
{
    public const string LeaseName = "kube-controller-manager";

    /// <summary>
    /// Runs the controllers while this process holds the kube-system/kube-controller-manager Lease (or always,
    /// when leader election is off) until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async Task RunAsync(KubernetesClient client, ControllerManagerOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (!options.LeaderElect)
        {
            await RunControllersAsync(client, options, timeProvider, loggerFactory, cancellationToken).ConfigureAwait(false);
            return;
        }

        var identity = options.Identity ?? $"{Environment.MachineName}_{Guid.NewGuid():N}";
        var elector = new LeaderElector(client, new LeaderElectionOptions
        {
            LeaseName = LeaseName,
            Identity = identity,
            // A standby is as ready as the leader: upstream's controller manager passes its health checks while it waits.
            OnNewLeader = holder =>
            {
                if (holder != identity)
                {
                    options.InformersSynced?.Invoke();
                }
            },
        }, timeProvider, loggerFactory.CreateLogger<LeaderElector>());
        try
        {
            // Leadership lost (a renewal missed its deadline, say while etcd elected a new leader): stand by and campaign again.
            while (!cancellationToken.IsCancellationRequested)
            {
                await elector.RunAsync(ct => RunControllersAsync(client, options, timeProvider, loggerFactory, ct), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs every controller until <paramref name="cancellationToken"/> fires (without leader election).</summary>
    public static async Task RunControllersAsync(KubernetesClient client, ControllerManagerOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        // As upstream's controller manager: no controller reads managedFields, and its writes leave them out, which keeps them.
        await using var informers = new SharedInformerFactory(client, options.ResyncPeriod, timeProvider: timeProvider, loggerFactory: loggerFactory) { TrimManagedFields = true };
        var events = new EventRecorder(client, "kube-controller-manager", timeProvider: timeProvider, logger: loggerFactory.CreateLogger<EventRecorder>());
        var context = new ControllerContext(client, informers, events, options, timeProvider, loggerFactory);

        // What a starting node waits for from the controller manager: its pod CIDR and its namespaces' default
        // ServiceAccounts. These controllers list and watch first; the others start once those caches have synced, so
        // that a node's start does not wait behind the other controllers' ninety-odd lists.
        IController[] first =
        [
            .. options.AllocateNodeCidrs ? [new NodeIpam.NodeIpamController(context, NodeIpam.CidrSet.Create(options.ClusterCidr, options.NodeCidrMaskSize))] : Array.Empty<IController>(),
            new ServiceAccountController(context),
        ];
        IController[] rest =
        [
            new ReplicaSetController(context),
            new ReplicaSetController(context, new ReplicationControllerKind()),
            new DeploymentController(context),
            new StatefulSets.StatefulSetController(context),
            new DaemonSets.DaemonSetController(context),
            new GarbageCollector(context),
            new NamespaceController(context),
            new NodeLifecycleController(context),
            new ClusterRoleAggregation.ClusterRoleAggregationController(context),
            new PodGarbageCollector(context),
            new DisruptionController(context),
            new ResourceQuotas.ResourceQuotaController(context),
            new JobController(context), new CronJobController(context), new TtlAfterFinishedController(context),
            new BootstrapTokens.TokenCleanerController(context),
            new HorizontalPodAutoscalers.HorizontalPodAutoscalerController(context),
            .. options.RootCaPem is { } rootCa ? [new Certificates.RootCaPublisherController(context, rootCa)] : Array.Empty<IController>(),
            .. options is { ClusterSigningCertificatePem: { } signingCa, ClusterSigningKeyPem: { } signingKey }
                ? [new Certificates.CsrSigningController(context, new Certificates.CertificateSigner(signingCa, signingKey, options.ClusterSigningDuration))]
                : Array.Empty<IController>(),
            new Certificates.CsrApprovingController(context), new Certificates.CsrCleanerController(context),
            new Volumes.PersistentVolumeController(context),
            new Volumes.AttachDetachController(context),
        ];
        IController[] controllers = [.. first, .. rest];
        EndpointSliceController? endpointSlices = null;
        EndpointsController? endpoints = null;
        var running = new List<Task>();
        try
        {
            foreach (var controller in first)
            {
                controller.Register();
            }

            informers.Start(cancellationToken);
            running.Add(events.RunAsync(cancellationToken));
            running.AddRange(first.Select(c => Task.Run(() => c.RunAsync(cancellationToken), CancellationToken.None)));
            await WaitBrieflyAsync(informers.WaitForCacheSyncAsync(cancellationToken), timeProvider, cancellationToken).ConfigureAwait(false);
            foreach (var controller in rest)
            {
                controller.Register();
            }

            endpointSlices = new EndpointSliceController(client, informers, loggerFactory.CreateLogger<EndpointSliceController>(), timeProvider);
            endpoints = new EndpointsController(client, informers, loggerFactory.CreateLogger<EndpointsController>(), timeProvider);
            informers.Start(cancellationToken);
            if (options.InformersSynced is { } synced)
            {
                _ = informers.WaitForCacheSyncAsync(cancellationToken).ContinueWith(t => synced(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }

            running.AddRange(rest.Select(c => Task.Run(() => c.RunAsync(cancellationToken), CancellationToken.None)));
            running.Add(Task.Run(() => endpointSlices.RunAsync(options.EndpointWorkers, cancellationToken), CancellationToken.None));
            running.Add(Task.Run(() => endpoints.RunAsync(options.EndpointWorkers, cancellationToken), CancellationToken.None));
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled while the first controllers ran alone: they end with the token before they are disposed.
            await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))).ConfigureAwait(false);
        }
        finally
        {
            foreach (var controller in controllers)
            {
                controller.Dispose();
            }

            endpointSlices?.Dispose();
            endpoints?.Dispose();
        }
    }

    /// <summary>
    /// Waits for the first controllers' caches, but not for long: a resource that cannot be listed holds back only the
    /// controllers that read it, never the others.
    /// </summary>
    private static async Task WaitBrieflyAsync(Task synced, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        try
        {
            await synced.WaitAsync(TimeSpan.FromSeconds(1), timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }
}
