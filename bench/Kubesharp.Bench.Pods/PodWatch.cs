using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Kubesharp.Bench.Pods;

/// <summary>A watch on the pods of a namespace that records, per pod name, when it was first seen Running.</summary>
internal sealed class PodWatch : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private readonly Task reader;

    private PodWatch(Stream stream)
    {
        reader = Task.Run(() => ReadAsync(stream, stop.Token));
    }

    public static async Task<PodWatch> StartAsync(KubesharpNode node, string ns, CancellationToken cancellationToken)
    {
        var list = await node.GetJsonAsync($"/api/v1/namespaces/{ns}/pods", cancellationToken);
        var resourceVersion = (string?)list?["metadata"]?["resourceVersion"] ?? "";
        var response = await node.Client.GetAsync(new Uri(node.Url, $"/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion={resourceVersion}&allowWatchBookmarks=false"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        return new PodWatch(await response.Content.ReadAsStreamAsync(cancellationToken));
    }

    /// <summary>The Stopwatch timestamp at which the watch delivered the pod as Running.</summary>
    public Task<long> RunningAsync(string name) => running.GetOrAdd(name, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await reader;
        }
        catch (Exception)
        {
        }

        stop.Dispose();
    }

    private async Task ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        await using var owned = stream;
        using var lines = new StreamReader(stream);
        while (await lines.ReadLineAsync(cancellationToken) is { } line)
        {
            var now = Stopwatch.GetTimestamp();
            if (line.Length == 0)
            {
                continue;
            }

            var e = JsonNode.Parse(line);
            var pod = e?["object"];
            if ((string?)e?["type"] is "ADDED" or "MODIFIED" && (string?)pod?["status"]?["phase"] == "Running" && (string?)pod?["metadata"]?["name"] is { } name)
            {
                running.GetOrAdd(name, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(now);
            }
        }
    }
}
