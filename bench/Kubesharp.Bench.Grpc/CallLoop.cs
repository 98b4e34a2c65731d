using System.Diagnostics;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Grpc;

/// <summary>One operation's figures for one client.</summary>
internal sealed record CallFigures(double RequestsPerSecond, double P50Milliseconds, double P99Milliseconds, double BytesPerCall);

/// <summary>
/// Runs one operation through one client: a sequential loop gives latency percentiles and allocated bytes per call
/// (all threads, so the client's connection work counts too); then concurrent workers for a fixed time give requests/s.
/// </summary>
internal static class CallLoop
{
    public static async Task<CallFigures> MeasureAsync(Func<int, Task> call, int sequentialCalls, int workers, TimeSpan duration)
    {
        for (var i = 0; i < Math.Min(200, sequentialCalls); i++)
        {
            await call(i);
        }

        var latencies = new double[sequentialCalls];
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < sequentialCalls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call(i);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        var bytesPerCall = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / sequentialCalls;

        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var counts = new long[workers];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var n = 0;
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                await call(sequentialCalls + (worker * 1_000_000) + n);
                n++;
            }

            counts[worker] = n;
        })));
        var rate = counts.Sum() / clock.Elapsed.TotalSeconds;
        return new CallFigures(rate, BenchmarkReport.Percentile(latencies, 0.5), BenchmarkReport.Percentile(latencies, 0.99), bytesPerCall);
    }
}
