using System.Collections.Concurrent;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>
/// Records, from a watch, what happened to the pods of a namespace in order: "created NAME", "ready NAME",
/// "deleting NAME" (deletionTimestamp set) and "deleted NAME".
/// </summary>
internal sealed class PodHistory : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentQueue<string> entries = new();
    private readonly HashSet<string> seen = [];
    private readonly Task watching;

    public PodHistory(KubernetesClient client, string @namespace)
    {
        var started = new TaskCompletionSource();
        watching = Task.Run(async () =>
        {
            try
            {
                var list = await client.Resource<Pod>().ListAsync(@namespace, cancellationToken: stopping.Token);
                started.TrySetResult();
                await foreach (var e in client.Resource<Pod>().WatchAsync(@namespace, new ListOptions { ResourceVersion = list.ResourceVersion }, stopping.Token))
                {
                    Observe(e.Type, e.Object);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                started.TrySetResult();
            }
        });
        Started = started.Task;
    }

    public Task Started { get; }

    public IReadOnlyList<string> Entries => [.. entries];

    /// <summary>The entries of one kind ("created", "ready", "deleting", "deleted"), pod names in order.</summary>
    public IReadOnlyList<string> Of(string kind) =>
        Entries.Where(e => e.StartsWith(kind + " ", StringComparison.Ordinal)).Select(e => e[(kind.Length + 1)..]).ToList();

    private void Observe(WatchEventType type, Pod pod)
    {
        var name = pod.Metadata?.Name ?? string.Empty;
        var uid = pod.Metadata?.Uid ?? string.Empty;
        void Once(string what)
        {
            if (seen.Add(what + " " + uid))
            {
                entries.Enqueue(what + " " + name);
            }
        }

        if (type == WatchEventType.Added)
        {
            Once("created");
        }

        if (pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
        {
            Once("ready");
        }

        if (pod.Metadata?.DeletionTimestamp is not null)
        {
            Once("deleting");
        }

        if (type == WatchEventType.Deleted)
        {
            Once("deleted");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await watching;
        stopping.Dispose();
    }
}
