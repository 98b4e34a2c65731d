using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.Events;

/// <summary>
/// Records core/v1 Events about objects. <see cref="Record"/> never blocks (events are dropped when the
/// buffer is full); <see cref="RunAsync"/> sends them. Repeats of the same event (object, type, reason,
/// message, source) are aggregated: the existing Event's count and lastTimestamp are patched. A send that fails for
/// a reason that passes (the server unreachable, overloaded or restarting) is tried again, up to upstream's twelve
/// tries per event, with a growing pause.
/// </summary>
public sealed partial class EventRecorder
{
    private const int CacheSize = 4096;

    /// <summary>Tries per event, as upstream's recorder.</summary>
    internal const int MaxTries = 12;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);
    private readonly ResourceClient<Event> events;
    private readonly string component;
    private readonly string? host;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Channel<Event> pending = Channel.CreateBounded<Event>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Dictionary<string, (string Namespace, string Name, int Count)> seen = new(StringComparer.Ordinal);
    private readonly Queue<string> seenOrder = new();
    private long lastNameStamp;

    public EventRecorder(KubernetesClient client, string component, string? host = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        events = client.Resource<Event>();
        this.component = component;
        this.host = host;
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Queues an event about <paramref name="obj"/>; its apiVersion/kind come from the type.</summary>
    public void Record<T>(T obj, string type, string reason, string message)
        where T : IKubernetesObject, IKubernetesKind =>
        Record(obj, T.GroupVersionKind.ApiVersion, T.GroupVersionKind.Kind, type, reason, message);

    /// <summary>Queues an event about a part of <paramref name="obj"/>, such as one container of a pod (<c>spec.containers{web}</c>).</summary>
    public void Record<T>(T obj, string fieldPath, string type, string reason, string message)
        where T : IKubernetesObject, IKubernetesKind =>
        Record(obj, T.GroupVersionKind.ApiVersion, T.GroupVersionKind.Kind, type, reason, message, fieldPath);

    public void Record(IKubernetesObject obj, string apiVersion, string kind, string type, string reason, string message, string? fieldPath = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var meta = obj.Metadata ?? new ObjectMeta();
        var now = time.GetUtcNow();
        var involved = new ObjectReference
        {
            ApiVersion = apiVersion,
            Kind = kind,
            Namespace = meta.Namespace,
            Name = meta.Name,
            Uid = meta.Uid,
            ResourceVersion = meta.ResourceVersion,
            FieldPath = fieldPath,
        };
        pending.Writer.TryWrite(new Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new ObjectMeta
            {
                Name = string.Create(CultureInfo.InvariantCulture, $"{meta.Name}.{NextNameStamp(now):x}"),
                Namespace = string.IsNullOrEmpty(meta.Namespace) ? "default" : meta.Namespace,
            },
            InvolvedObject = involved,
            Type = type,
            Reason = reason,
            Message = message,
            Source = new EventSource { Component = component, Host = host },
            ReportingComponent = component,
            ReportingInstance = host ?? "",
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        });
    }

    /// <summary>Sends queued events until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in pending.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await SendWithRetryAsync(e, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendWithRetryAsync(Event e, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SendAsync(e, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StatusException ex) when (ex.IsNamespaceTerminating() || ex.IsNotFound())
            {
                // The object's namespace is being deleted (or gone): its events go with it, nothing to warn about.
                LogSendDropped(logger, e.Reason ?? "", e.InvolvedObject?.Namespace ?? "", e.InvolvedObject?.Name ?? "", ex.Message);
                return;
            }
            catch (StatusException ex) when (ex.IsAlreadyExists() && attempt < MaxTries)
            {
                // Another recorder took this name in the same instant: the next try goes under a new one.
                e = e with { Metadata = e.Metadata! with { Name = string.Create(CultureInfo.InvariantCulture, $"{e.InvolvedObject!.Name}.{NextNameStamp(time.GetUtcNow()):x}") } };
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && attempt < MaxTries)
            {
                var wait = ex is StatusException { Details.RetryAfterSeconds: > 0 } status
                    ? TimeSpan.FromSeconds(Math.Min(status.Details!.RetryAfterSeconds, MaxRetryDelay.TotalSeconds))
                    : delay;
                LogSendRetried(logger, e.Reason ?? "", e.InvolvedObject?.Namespace ?? "", e.InvolvedObject?.Name ?? "", attempt, wait, ex.Message);
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
            catch (Exception ex) when (ex is StatusException or HttpRequestException or IOException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogSendFailed(logger, e.Reason ?? "", e.InvolvedObject?.Namespace ?? "", e.InvolvedObject?.Name ?? "", ex.Message);
                return;
            }
        }
    }

    /// <summary>Failures that pass: the server unreachable, overloaded, timing out or failing inside.</summary>
    private static bool IsTransient(Exception error, CancellationToken cancellationToken) => error switch
    {
        StatusException status => status.Code is 429 or 500 or 502 or 503 or 504,
        HttpRequestException or IOException => true,
        TaskCanceledException => !cancellationToken.IsCancellationRequested, // the request's own timeout
        _ => false,
    };

    /// <summary>
    /// The nanosecond stamp in an Event's name, as upstream names them, but never the same twice in this recorder:
    /// two events about one object recorded within one clock tick would otherwise collide and one would be lost.
    /// </summary>
    private long NextNameStamp(DateTimeOffset now)
    {
        var stamp = (now - DateTimeOffset.UnixEpoch).Ticks * 100;
        while (true)
        {
            var last = Volatile.Read(ref lastNameStamp);
            var next = Math.Max(stamp, last + 1);
            if (Interlocked.CompareExchange(ref lastNameStamp, next, last) == last)
            {
                return next;
            }
        }
    }

    internal async Task SendAsync(Event e, CancellationToken cancellationToken)
    {
        var o = e.InvolvedObject!;
        var key = string.Join('\u0001', o.Kind, o.Namespace, o.Name, o.Uid, o.FieldPath, e.Type, e.Reason, e.Message, component, host);
        if (seen.TryGetValue(key, out var existing))
        {
            var count = existing.Count + 1;
            var patch = string.Create(CultureInfo.InvariantCulture, $"{{\"count\":{count},\"lastTimestamp\":\"{Rfc3339.FormatTime(e.LastTimestamp!.Value)}\"}}");
            try
            {
                await events.PatchAsync(existing.Namespace, existing.Name, PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
                seen[key] = (existing.Namespace, existing.Name, count);
                return;
            }
            catch (StatusException error) when (error.IsNotFound())
            {
                // The aggregated Event expired or was deleted: start a new one.
            }
        }

        var created = await events.CreateAsync(e, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!seen.ContainsKey(key))
        {
            seenOrder.Enqueue(key);
            if (seenOrder.Count > CacheSize)
            {
                seen.Remove(seenOrder.Dequeue());
            }
        }

        seen[key] = (created.Metadata!.Namespace!, created.Metadata.Name!, created.Count ?? 1);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped event {Reason} for {Namespace}/{Name}: {Error}")]
    private static partial void LogSendDropped(ILogger logger, string reason, string @namespace, string name, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {Reason} for {Namespace}/{Name} not sent (try {Attempt}), trying again in {Delay}: {Error}")]
    private static partial void LogSendRetried(ILogger logger, string reason, string @namespace, string name, int attempt, TimeSpan delay, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record event {Reason} for {Namespace}/{Name}: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string reason, string @namespace, string name, string error);
}
