using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Client.Informers;

/// <summary>
/// List + watch of a resource the client has no type for (a custom resource) into a cache of JSON objects keyed
/// <c>namespace/name</c>. Until the resource is served (its definition not yet established) the list is retried with
/// backoff; a 410 or a failed watch relists. Cached objects are shared: copy before changing.
/// </summary>
public sealed partial class JsonInformer
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly KubernetesClient client;
    private readonly string path;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, JsonObject> objects = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="path">The collection's path for all namespaces, such as <c>/apis/example.com/v1/widgets</c>.</param>
    /// <param name="changed">Called after every change of the cache (relists included).</param>
    public JsonInformer(KubernetesClient client, string path, Action changed, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        this.client = client;
        this.path = path;
        Changed = changed;
        time = timeProvider ?? TimeProvider.System;
        this.logger = logger ?? NullLogger.Instance;
    }

    private Action Changed { get; }

    /// <summary>The cached objects (a snapshot of the keys; the objects themselves are shared).</summary>
    public IReadOnlyList<JsonObject> List() => [.. objects.Values];

    public JsonObject? Get(string? @namespace, string name) => objects.GetValueOrDefault(ObjectKey.Of(@namespace, name));

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => synced.Task.WaitAsync(cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        string? resourceVersion = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                resourceVersion ??= await RelistAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
                resourceVersion = await WatchAsync(resourceVersion, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (StatusException e) when (e.Code == 410)
            {
                resourceVersion = null;
                continue;
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException or System.Text.Json.JsonException)
            {
                LogFailed(logger, path, e.Message);
                resourceVersion = null;
                failures++;
            }

            var delay = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, TimeSpan.FromMilliseconds(100).Ticks << Math.Min(failures, 10)));
            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<string> RelistAsync(CancellationToken cancellationToken)
    {
        var list = await client.SendRequiredJsonAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false)
            ?? throw new System.Text.Json.JsonException("the list is not an object");
        var fresh = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var item in list["items"] as JsonArray ?? [])
        {
            if (item is JsonObject obj)
            {
                fresh[Key(obj)] = obj;
            }
        }

        foreach (var key in objects.Keys.Where(k => !fresh.ContainsKey(k)))
        {
            objects.TryRemove(key, out _);
        }

        foreach (var (key, obj) in fresh)
        {
            objects[key] = obj;
        }

        synced.TrySetResult();
        Changed();
        return (string?)list["metadata"]?["resourceVersion"] ?? string.Empty;
    }

    /// <summary>Follows the watch until it ends; returns the last resourceVersion seen.</summary>
    private async Task<string> WatchAsync(string resourceVersion, CancellationToken cancellationToken)
    {
        var query = $"?watch=true&allowWatchBookmarks=true&timeoutSeconds={300 + Random.Shared.Next(300)}&resourceVersion={Uri.EscapeDataString(resourceVersion)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, path + query);
        using var response = await client.SendAsync(request, streaming: true, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // The connection ended the watch: resumed from the last resourceVersion.
                return resourceVersion;
            }

            if (line is null)
            {
                return resourceVersion;
            }

            if (line.Length == 0 || JsonNode.Parse(line) is not JsonObject change || change["object"] is not JsonObject obj)
            {
                continue;
            }

            switch ((string?)change["type"])
            {
                case "ADDED" or "MODIFIED":
                    objects[Key(obj)] = obj;
                    break;
                case "DELETED":
                    objects.TryRemove(Key(obj), out _);
                    break;
                case "ERROR":
                    throw KubernetesJson.ToException((int?)obj["code"] ?? 500, System.Text.Encoding.UTF8.GetBytes(obj.ToJsonString()));
                default:
                    resourceVersion = (string?)obj["metadata"]?["resourceVersion"] ?? resourceVersion;
                    continue;
            }

            resourceVersion = (string?)obj["metadata"]?["resourceVersion"] ?? resourceVersion;
            Changed();
        }
    }

    private static string Key(JsonObject obj) => ObjectKey.Of((string?)obj["metadata"]?["namespace"], (string?)obj["metadata"]?["name"] ?? string.Empty);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch of {Path} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string path, string reason);
}
