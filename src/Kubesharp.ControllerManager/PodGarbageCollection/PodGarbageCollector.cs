using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.PodGarbageCollection;

/// <summary>
/// Periodically force-deletes pods nothing else will clean up: terminated pods over the threshold, pods on
/// nodes that no longer exist, terminating pods that were never scheduled or whose node is out of service.
/// </summary>
internal sealed partial class PodGarbageCollector(ControllerContext context) : IController
{
    private readonly ILogger logger = context.LoggerFactory.CreateLogger<PodGarbageCollector>();
    private readonly InformerSyncs syncs = new();
    private Lister<Pod> pods = null!;
    private Lister<Node> nodes = null!;

    public string Name => "podgc";

    public void Register()
    {
        var podInformer = context.Informers.Informer<Pod>();
        var nodeInformer = context.Informers.Informer<Node>();
        pods = podInformer.Lister;
        nodes = nodeInformer.Lister;
        syncs.Add(podInformer.WaitForSyncAsync);
        syncs.Add(nodeInformer.WaitForSyncAsync);
    }

    public void Dispose()
    {
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(context.Options.PodGcPeriod, context.Time);
        try
        {
            await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
            do
            {
                try
                {
                    await CollectAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is StatusException or HttpRequestException)
                {
                    LogFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async Task CollectAsync(CancellationToken cancellationToken)
    {
        var all = pods.List();
        foreach (var pod in PodGarbageCollectionRules.TerminatedOverThreshold(all, context.Options.TerminatedPodGcThreshold))
        {
            await ForceDeleteAsync(pod, cancellationToken).ConfigureAwait(false);
        }

        var client = context.Client.Resource<Node>();
        var missing = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var pod in PodGarbageCollectionRules.Orphaned(all, name => nodes.Get(null, name) is not null))
        {
            var nodeName = pod.Spec!.NodeName!;
            if (!missing.TryGetValue(nodeName, out var gone))
            {
                // The cache may lag behind a node that was just registered: ask the server before deleting.
                try
                {
                    await client.GetAsync(null, nodeName, cancellationToken).ConfigureAwait(false);
                    gone = false;
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                    gone = true;
                }

                missing[nodeName] = gone;
            }

            if (gone)
            {
                await ForceDeleteAsync(pod, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var pod in PodGarbageCollectionRules.UnscheduledTerminating(all)
                     .Concat(PodGarbageCollectionRules.TerminatingOnOutOfServiceNodes(all, name => nodes.Get(null, name))))
        {
            await ForceDeleteAsync(pod, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ForceDeleteAsync(Pod pod, CancellationToken cancellationToken)
    {
        LogDeleting(logger, pod.Metadata?.Namespace, pod.Metadata?.Name);
        try
        {
            await context.Client.Resource<Pod>().DeleteAsync(pod.Metadata!.Namespace, pod.Metadata.Name!, new DeleteOptions { GracePeriodSeconds = 0, Preconditions = new Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod garbage collection: deleting {Namespace}/{Name}")]
    private static partial void LogDeleting(ILogger logger, string? @namespace, string? name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pod garbage collection pass failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
