using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kubesharp.Bench.Services;

/// <summary>One HTTP/1.0 GET on a new connection (connect, request, read to the server's close): what a service proxy costs per connection.</summary>
internal static class HttpProbe
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\nHost: bench\r\n\r\n");

    /// <summary>The body of the answer, or null when the connection failed or timed out.</summary>
    public static async Task<string?> GetAsync(IPEndPoint target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(target, limit.Token);
            await socket.SendAsync(Request, SocketFlags.None, limit.Token);
            var buffer = new byte[4096];
            var total = 0;
            while (total < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, limit.Token);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            var text = Encoding.ASCII.GetString(buffer, 0, total);
            var body = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            return text.StartsWith("HTTP/1.", StringComparison.Ordinal) && body > 0 ? text[(body + 4)..].Trim() : null;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// <paramref name="workers"/> loops of new-connection GETs for <paramref name="duration"/>: completed
    /// connections per second, each one's milliseconds, and the failures.
    /// </summary>
    public static async Task<(double PerSecond, List<double> LatenciesMs, int Failures)> LoadAsync(IPEndPoint target, int workers, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        var failures = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            var mine = new List<double>();
            var failed = 0;
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                if (await GetAsync(target, TimeSpan.FromSeconds(2), cancellationToken) is null)
                {
                    failed++;
                    continue;
                }

                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            lock (latencies)
            {
                latencies.AddRange(mine);
                failures += failed;
            }
        }, cancellationToken)));
        return (latencies.Count / clock.Elapsed.TotalSeconds, latencies, failures);
    }
}
