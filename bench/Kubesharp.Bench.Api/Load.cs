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

    /// <summary>
    /// Two loads compared fairly: both warm up (unmeasured, half the duration each), then run alternating rounds (four
    /// unless asked) of a quarter of the duration, each first in half of them, so that neither gains from running later (a warmer
    /// JIT, a larger store) or loses more to a neighbour's burst on a shared machine. Sequence numbers of the warm-up
    /// and of each round are far apart, so created names never collide. perRound, when given, receives each round's
    /// latencies of both loads, for ratios taken round by round.
    /// </summary>
    public static async Task<((List<double> Latencies, double Rate) A, (List<double> Latencies, double Rate) B)> ComparePairedAsync(
        int clients, TimeSpan duration, (HttpClient Client, Func<HttpClient, long, Task<HttpResponseMessage>> Send) a, (HttpClient Client, Func<HttpClient, long, Task<HttpResponseMessage>> Send) b, int rounds = 4,
        List<(List<double> A, List<double> B)>? perRound = null)
    {
        await RunAsync(a.Client, clients, duration / 2, (c, n) => a.Send(c, n + 1_000_000_000));
        await RunAsync(b.Client, clients, duration / 2, (c, n) => b.Send(c, n + 1_000_000_000));
        List<double> aLatencies = [], bLatencies = [];
        double aRate = 0, bRate = 0;
        for (var round = 0; round < rounds; round++)
        {
            var offset = (round + 1) * 10_000_000L;
            List<double> aRound = [], bRound = [];
            foreach (var first in round % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var (client, send) = first ? a : b;
                var (latencies, rate) = await RunAsync(client, clients, duration / 4, (c, n) => send(c, n + offset));
                (first ? aRound : bRound).AddRange(latencies);
                if (first)
                {
                    aRate += rate / rounds;
                }
                else
                {
                    bRate += rate / rounds;
                }
            }

            aLatencies.AddRange(aRound);
            bLatencies.AddRange(bRound);
            perRound?.Add((aRound, bRound));
        }

        return ((aLatencies, aRate), (bLatencies, bRate));
    }
}
