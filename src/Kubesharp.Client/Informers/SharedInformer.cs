using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.Informers;

/// <summary>
/// List + watch of one resource into an indexed in-memory cache, with event handlers and periodic resync
/// (client-go's SharedIndexInformer). A 410 on watch triggers a relist; other failures re-watch from the last
/// resourceVersion with exponential backoff. An object that does not fit the type is left out of the cache
/// (as if absent) and logged once per resourceVersion; it never stops the list or the watch.
/// </summary>
public sealed partial class SharedInformer<T>
    where T : class, IKubernetesObject, IKubernetesKind, new()
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly ResourceClient<T> client;
    private readonly SharedInformerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Lock dispatchGate = new();
    private readonly List<IResourceEventHandler<T>> handlers = [];
    private readonly Dictionary<string, string?> reportedUndecodable = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int started;

    public SharedInformer(ResourceClient<T> client, SharedInformerOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        this.client = client;
        this.options = options ?? new SharedInformerOptions();
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
        Indexer = new Indexer<T>();
        Lister = new Lister<T>(Indexer);
    }

    public Indexer<T> Indexer { get; }

    public Lister<T> Lister { get; }

    /// <summary>
    /// Applied to every object before it is cached and handed to handlers (client-go's transform), so a cache
    /// keeps only what its readers need (say, without managedFields). Set before <see cref="RunAsync"/>.
    /// </summary>
    public Func<T, T>? Transform { get; init; }

    /// <summary>True once the first list has filled the cache.</summary>
    public bool HasSynced => synced.Task.IsCompleted;

    /// <summary>The resourceVersion the cache is current up to.</summary>
    public string LastSyncResourceVersion { get; private set; } = "";

    /// <summary>Adds a handler; objects already cached are delivered to it as adds first.</summary>
    public void AddEventHandler(IResourceEventHandler<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (dispatchGate)
        {
            handlers.Add(handler);
            foreach (var obj in Indexer.List())
            {
                Invoke(handler, h => h.OnAdd(obj));
            }
        }
    }

    public void AddEventHandler(Action<T>? onAdd = null, Action<T, T>? onUpdate = null, Action<T>? onDelete = null) =>
        AddEventHandler(new ResourceEventHandler<T>(onAdd, onUpdate, onDelete));

    /// <summary>Adds a secondary index (before or after start).</summary>
    public void AddIndexer(string name, Func<T, IEnumerable<string>> indexFunc) => Indexer.AddIndexer(name, indexFunc);

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => synced.Task.WaitAsync(cancellationToken);

    /// <summary>Runs until cancelled; can be started once.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref started, 1) != 0)
        {
            throw new InvalidOperationException("the informer is already running");
        }

        var resync = options.ResyncPeriod > TimeSpan.Zero ? ResyncLoopAsync(cancellationToken) : Task.CompletedTask;
        try
        {
            await ListAndWatchAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        try
        {
            await resync.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ListAndWatchAsync(CancellationToken cancellationToken)
    {
        var needList = true;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    await RelistAsync(cancellationToken).ConfigureAwait(false);
                    needList = false;
                }

                var watchOptions = new ListOptions
                {
                    LabelSelector = options.LabelSelector,
                    FieldSelector = options.FieldSelector,
                    ResourceVersion = LastSyncResourceVersion,
                    AllowWatchBookmarks = true,
                    TimeoutSeconds = 300 + Random.Shared.Next(300),
                };
                await foreach (var change in client.WatchEventsAsync(options.Namespace, watchOptions, cancellationToken, Transform is null ? FindShared : null).ConfigureAwait(false))
                {
                    Apply(change);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StatusException e) when (e.IsResourceExpired())
            {
                LogRelist(logger, client.Resource.GroupResource, e.Message);
                needList = true;
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException or System.Text.Json.JsonException or OperationCanceledException)
            {
                failures++;
                needList |= failures >= 3 || !HasSynced;
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 200 * Math.Pow(2, Math.Min(failures, 10))));
                LogWatchFailed(logger, client.Resource.GroupResource, e.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RelistAsync(CancellationToken cancellationToken)
    {
        var list = await client.ListAllAsync(options.Namespace, new ListOptions
        {
            LabelSelector = options.LabelSelector,
            FieldSelector = options.FieldSelector,
            Limit = options.PageSize,
        }, cancellationToken).ConfigureAwait(false);
        lock (dispatchGate)
        {
            var stillUndecodable = new HashSet<string>(StringComparer.Ordinal);
            foreach (var undecodable in list.Undecodable)
            {
                ReportUndecodable(undecodable);
                stillUndecodable.Add(undecodable.Key);
            }

            foreach (var key in reportedUndecodable.Keys.Where(k => !stillUndecodable.Contains(k)).ToList())
            {
                reportedUndecodable.Remove(key);
            }

            var removed = Indexer.Replace(list.Items.Select(Prepare).ToList(), out var upserts);
            foreach (var (old, obj) in upserts)
            {
                if (old is null)
                {
                    Dispatch(h => h.OnAdd(obj));
                }
                else if (old.Metadata?.ResourceVersion != obj.Metadata?.ResourceVersion)
                {
                    Dispatch(h => h.OnUpdate(old, obj));
                }
            }

            foreach (var obj in removed)
            {
                Dispatch(h => h.OnDelete(obj));
            }

            LastSyncResourceVersion = list.ResourceVersion;
        }

        synced.TrySetResult();
    }

    /// <summary>
    /// What the cache keeps of an object read from the API: trimmed, then transformed, or else the instance another
    /// informer of the process holds at the same version (<see cref="SharedObjectTable{T}"/>).
    /// </summary>
    private T Prepare(T obj)
    {
        if (options.TrimManagedFields && obj.Metadata is { ManagedFields: not null } meta)
        {
            obj.Metadata = meta with { ManagedFields = null };
        }

        return Transform is { } transform ? transform(obj) : SharedObjectTable<T>.Share(obj);
    }

    /// <summary>The instance another informer of the process holds for this JSON, found without decoding it.</summary>
    private T? FindShared(ReadOnlySpan<byte> json) => SharedObjectTable<T>.Find(json, options.TrimManagedFields);

    private void Apply(WatchEvent<T> change)
    {
        // A held instance is prepared already, and shared: it is not changed again.
        var obj = change.Type is not WatchEventType.Bookmark && !change.Held ? Prepare(change.Object) : change.Object;
        lock (dispatchGate)
        {
            if (change.Undecodable is { } undecodable && change.Type is WatchEventType.Added or WatchEventType.Modified)
            {
                // The cache holds what can be read, as a relist would: a version that cannot be read withdraws the last one.
                ReportUndecodable(undecodable);
                if (Indexer.Delete(undecodable.Key) is { } withdrawn)
                {
                    Dispatch(h => h.OnDelete(withdrawn));
                }

                if (undecodable.ResourceVersion is { Length: > 0 } skippedRv)
                {
                    LastSyncResourceVersion = skippedRv;
                }

                return;
            }

            if (change.Type is not WatchEventType.Bookmark)
            {
                reportedUndecodable.Remove(ObjectKey.Of(obj));
            }

            switch (change.Type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                    var old = Indexer.Upsert(obj);
                    if (old is null)
                    {
                        Dispatch(h => h.OnAdd(obj));
                    }
                    else
                    {
                        Dispatch(h => h.OnUpdate(old, obj));
                    }

                    break;
                case WatchEventType.Deleted:
                    var removed = Indexer.Delete(ObjectKey.Of(obj));
                    if (removed is not null || change.Undecodable is null)
                    {
                        Dispatch(h => h.OnDelete(removed ?? obj));
                    }

                    break;
                case WatchEventType.Bookmark:
                    break;
            }

            if (obj.Metadata?.ResourceVersion is { Length: > 0 } rv)
            {
                LastSyncResourceVersion = rv;
            }
        }
    }

    /// <summary>Logs an undecodable object once per key and resourceVersion (a relist or re-watch meets it again).</summary>
    private void ReportUndecodable(UndecodableObject undecodable)
    {
        if (reportedUndecodable.TryGetValue(undecodable.Key, out var rv) && rv == undecodable.ResourceVersion)
        {
            return;
        }

        reportedUndecodable[undecodable.Key] = undecodable.ResourceVersion;
        LogUndecodable(logger, client.Resource.GroupResource, undecodable.Kind, undecodable.Key, undecodable.ResourceVersion ?? "", undecodable.Reason);
    }

    private async Task ResyncLoopAsync(CancellationToken cancellationToken)
    {
        await synced.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(options.ResyncPeriod, time, cancellationToken).ConfigureAwait(false);
            lock (dispatchGate)
            {
                foreach (var obj in Indexer.List())
                {
                    Dispatch(h => h.OnUpdate(obj, obj));
                }
            }
        }
    }

    private void Dispatch(Action<IResourceEventHandler<T>> call)
    {
        foreach (var handler in handlers)
        {
            Invoke(handler, call);
        }
    }

    private void Invoke(IResourceEventHandler<T> handler, Action<IResourceEventHandler<T>> call)
    {
        try
        {
            call(handler);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogHandlerFailed(logger, client.Resource.GroupResource, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Relisting {Resource}: {Reason}")]
    private static partial void LogRelist(ILogger logger, string resource, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch of {Resource} failed: {Reason}; retrying in {DelayMs} ms")]
    private static partial void LogWatchFailed(ILogger logger, string resource, string reason, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping {Kind} {Key} of {Resource} (resourceVersion {ResourceVersion}): it does not decode: {Reason}")]
    private static partial void LogUndecodable(ILogger logger, string resource, string kind, string key, string resourceVersion, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "An event handler of {Resource} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string resource, Exception exception);
}
