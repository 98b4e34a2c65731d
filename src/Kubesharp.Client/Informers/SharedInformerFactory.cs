using System.Collections.Concurrent;
using Kubesharp.ApiMachinery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.Informers;

/// <summary>
/// One informer per kind, shared by every controller of a process, so each resource is listed and
/// watched once. <see cref="Start"/> starts informers requested so far; call it again after requesting more.
/// </summary>
public sealed class SharedInformerFactory : IAsyncDisposable
{
    private readonly KubernetesClient client;
    private readonly TimeSpan defaultResync;
    private readonly string? @namespace;
    private readonly TimeProvider time;
    private readonly ILoggerFactory loggerFactory;
    private readonly ConcurrentDictionary<(Type Kind, string? FieldSelector), Entry> informers = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly List<Task> running = [];

    public SharedInformerFactory(KubernetesClient client, TimeSpan defaultResync = default, string? @namespace = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        this.client = client;
        this.defaultResync = defaultResync;
        this.@namespace = @namespace;
        time = timeProvider ?? TimeProvider.System;
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>Informers made from now on drop managedFields (see <see cref="SharedInformerOptions.TrimManagedFields"/>).</summary>
    public bool TrimManagedFields { get; init; }

    public SharedInformer<T> Informer<T>()
        where T : class, IKubernetesObject, IKubernetesKind, new() => Informer<T>(null);

    /// <summary>
    /// The informer of the objects of a kind that a field selector picks (e.g. <c>metadata.name=kube-root-ca.crt</c>),
    /// shared by the controllers that ask for the same selector: only those objects are listed, watched and held.
    /// </summary>
    public SharedInformer<T> Informer<T>(string? fieldSelector)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        var entry = informers.GetOrAdd((typeof(T), fieldSelector), _ =>
        {
            var informer = new SharedInformer<T>(
                client.Resource<T>(),
                new SharedInformerOptions { Namespace = @namespace, FieldSelector = fieldSelector, ResyncPeriod = defaultResync, TrimManagedFields = TrimManagedFields },
                time,
                loggerFactory.CreateLogger($"Kubesharp.Client.Informers.{typeof(T).Name}Informer"));
            return new Entry(informer, ct => informer.RunAsync(ct), ct => informer.WaitForSyncAsync(ct));
        });
        return (SharedInformer<T>)entry.Informer;
    }

    public Lister<T> Lister<T>()
        where T : class, IKubernetesObject, IKubernetesKind, new() => Informer<T>().Lister;

    /// <summary>Starts informers not yet running; they stop on <paramref name="cancellationToken"/> or disposal.</summary>
    public void Start(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var entry in informers.Values)
            {
                if (entry.Started)
                {
                    continue;
                }

                entry.Started = true;
                var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
                running.Add(Task.Run(async () =>
                {
                    using (linked)
                    {
                        await entry.Run(linked.Token).ConfigureAwait(false);
                    }
                }, CancellationToken.None));
            }
        }
    }

    /// <summary>Waits until every started informer has listed once.</summary>
    public Task WaitForCacheSyncAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(informers.Values.Where(e => e.Started).Select(e => e.WaitForSync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        Task[] tasks;
        lock (gate)
        {
            tasks = [.. running];
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        stopping.Dispose();
    }

    private sealed class Entry(object informer, Func<CancellationToken, Task> run, Func<CancellationToken, Task> waitForSync)
    {
        public object Informer { get; } = informer;

        public Func<CancellationToken, Task> Run { get; } = run;

        public Func<CancellationToken, Task> WaitForSync { get; } = waitForSync;

        public bool Started { get; set; }
    }
}
