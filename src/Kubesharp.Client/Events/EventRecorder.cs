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
/// message, source) are aggregated: the existing Event's count and lastTimestamp are patched.
/// </summary>
public sealed partial class EventRecorder
{
    private const int CacheSize = 4096;
    private readonly ResourceClient<Event> events;
    private readonly string component;
    private readonly string? host;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Channel<Event> pending = Channel.CreateBounded<Event>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Dictionary<string, (string Namespace, string Name, int Count)> seen = new(StringComparer.Ordinal);
    private readonly Queue<string> seenOrder = new();

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
                Name = string.Create(CultureInfo.InvariantCulture, $"{meta.Name}.{(now - DateTimeOffset.UnixEpoch).Ticks * 100:x}"),
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
                try
                {
                    await SendAsync(e, cancellationToken).ConfigureAwait(false);
                }
                catch (StatusException ex) when (ex.IsNamespaceTerminating() || ex.IsNotFound())
                {
                    // The object's namespace is being deleted (or gone): its events go with it, nothing to warn about.
                    LogSendDropped(logger, e.Reason ?? "", e.InvolvedObject?.Namespace ?? "", e.InvolvedObject?.Name ?? "", ex.Message);
                }
                catch (Exception ex) when (ex is StatusException or HttpRequestException or IOException or JsonException)
                {
                    LogSendFailed(logger, e.Reason ?? "", e.InvolvedObject?.Namespace ?? "", e.InvolvedObject?.Name ?? "", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record event {Reason} for {Namespace}/{Name}: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string reason, string @namespace, string name, string error);
}
