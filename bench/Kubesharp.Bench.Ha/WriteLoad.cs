using System.Diagnostics;
using System.Text;

namespace Kubesharp.Bench.Ha;

/// <summary>Closed-loop ConfigMap CREATEs: each worker sends its next when the last is acknowledged, spread over the servers' clients.</summary>
internal static class WriteLoad
{
    public static async Task<(List<double> Latencies, double Rate)> RunAsync(IReadOnlyList<(HttpClient Client, Uri Url)> servers, int workers, TimeSpan duration, string prefix)
    {
        var latencies = new List<double>[workers];
        long sequence = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = [];
            var (client, url) = servers[worker % servers.Count];
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync(new Uri(url, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"{prefix}-{Interlocked.Increment(ref sequence)}"));
                await response.Content.CopyToAsync(Stream.Null);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"CREATE through {url} answered {(int)response.StatusCode}");
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        var all = latencies.SelectMany(l => l).ToList();
        return (all, all.Count / clock.Elapsed.TotalSeconds);
    }

    public static StringContent ConfigMap(string name) =>
        Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"key":"{{{new string('v', 256)}}}"}}""");

    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
}
