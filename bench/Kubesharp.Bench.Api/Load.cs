using System.Diagnostics;

namespace Kubesharp.Bench.Api;

/// <summary>Closed-loop load: each client sends its next request when the last one is answered, for a fixed time.</summary>
internal static class Load
{
    public static async Task<(List<double> Latencies, double Rate)> RunAsync(HttpClient client, int clients, TimeSpan duration, Func<HttpClient, long, Task<HttpResponseMessage>> send)
    {
        var latencies = new List<double>[clients];
        long sequence = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = [];
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await send(client, Interlocked.Increment(ref sequence));
                await response.Content.CopyToAsync(Stream.Null);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}");
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        var all = latencies.SelectMany(l => l).ToList();
        return (all, all.Count / clock.Elapsed.TotalSeconds);
    }
}
