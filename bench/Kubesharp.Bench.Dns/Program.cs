using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.Bench.Common;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Dns;
using Kubesharp.Dns.Wire;

// Cluster DNS throughput and latency over real UDP on loopback: 1000 Services in caches, a fixed number of
// concurrent clients each sending queries back to back; beside it the floor, a UDP responder on loopback that
// answers every query with a canned reply. Usage: [--quick] [--seconds N] [--clients N] [--write BENCHMARKS.md]
var seconds = args.Contains("--quick") ? 3 : 10;
var clients = 8;
string? markdownPath = null;
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--seconds": seconds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--clients": clients = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--write": markdownPath = args[i + 1]; break;
    }
}

var services = new Indexer<Service>();
for (var i = 0; i < 1000; i++)
{
    services.Upsert(new Service
    {
        Metadata = new ObjectMeta { Namespace = "bench", Name = $"svc{i}" },
        Spec = new ServiceSpec { ClusterIP = $"10.43.{i / 250}.{(i % 250) + 1}", ClusterIPs = [$"10.43.{i / 250}.{(i % 250) + 1}"], Ports = [new ServicePort { Name = "http", Port = 80 }] },
    });
}

var options = new ClusterDnsOptions { ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0) };
var zone = new ClusterDnsZone(options, services, new Indexer<EndpointSlice>(), new Indexer<Pod>());
await using var server = new ClusterDnsServer(zone, new DnsForwarder([], TimeSpan.FromMilliseconds(100)), options);
server.Start();

var canned = DnsMessageWriter.Write(new DnsMessage { Id = 0, RecursionDesired = true, Questions = [new DnsQuestion("svc1.bench.svc.cluster.local", DnsType.A)] });
using var floorSocket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
floorSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
using var floorStop = new CancellationTokenSource();
var floorLoop = Task.Run(async () =>
{
    var buffer = new byte[2048];
    while (!floorStop.IsCancellationRequested)
    {
        try
        {
            var received = await floorSocket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), floorStop.Token);
            canned[0] = buffer[0];
            canned[1] = buffer[1];
            await floorSocket.SendToAsync(canned, SocketFlags.None, received.RemoteEndPoint);
        }
        catch (OperationCanceledException)
        {
        }
    }
});

// One-second rounds, alternating between the two, so that a noisy neighbour weighs on both alike.
var ours = new Measurement();
var floor = new Measurement();
for (var round = 0; round < seconds; round++)
{
    await MeasureAsync(server.UdpEndpoint!, clients, TimeSpan.FromSeconds(1), ours);
    await MeasureAsync((IPEndPoint)floorSocket.LocalEndPoint!, clients, TimeSpan.FromSeconds(1), floor);
}

await floorStop.CancelAsync();
await floorLoop;

var section = new StringBuilder();
section.AppendLine("## Cluster DNS");
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Dns`. Real UDP on loopback, {clients} clients sending A queries back to back for {seconds} one-second rounds, alternating with the floor, against");
section.AppendLine("the cluster DNS server (in the benchmark's own process, on the JIT) with 1,000 Services in its caches; the floor is a loopback UDP responder that returns a canned answer.");
section.AppendLine();
section.AppendLine("| measurement | cluster DNS | floor | cluster DNS / floor |");
section.AppendLine("|---|--:|--:|--:|");
section.AppendLine(CultureInfo.InvariantCulture, $"| queries/s | {BenchmarkReport.Format(ours.Rate, "N0")} | {BenchmarkReport.Format(floor.Rate, "N0")} | {BenchmarkReport.Ratio(ours.Rate, floor.Rate)} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| p50 ms | {BenchmarkReport.Format(ours.P50, "0.000")} | {BenchmarkReport.Format(floor.P50, "0.000")} | {BenchmarkReport.Ratio(ours.P50, floor.P50)} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| p99 ms | {BenchmarkReport.Format(ours.P99, "0.000")} | {BenchmarkReport.Format(floor.P99, "0.000")} | {BenchmarkReport.Ratio(ours.P99, floor.P99)} |");
Console.WriteLine(section);
if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Cluster DNS", section.ToString());
}

static async Task MeasureAsync(IPEndPoint endpoint, int clients, TimeSpan duration, Measurement into)
{
    var latencies = new List<double>[clients];
    using var stop = new CancellationTokenSource(duration);
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
    {
        var own = latencies[c] = [];
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(endpoint);
        var buffer = new byte[2048];
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var query = DnsMessageWriter.Write(new DnsMessage { Id = (ushort)n, RecursionDesired = true, Questions = [new DnsQuestion($"svc{n % 1000}.bench.svc.cluster.local", DnsType.A)] });
            var started = Stopwatch.GetTimestamp();
            await socket.SendAsync(query, SocketFlags.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException)
            {
            }

            n++;
        }
    })));
    watch.Stop();
    into.Latencies.AddRange(latencies.SelectMany(l => l));
    into.Elapsed += watch.Elapsed;
}

/// <summary>Latencies and time summed over the rounds of one side.</summary>
internal sealed class Measurement
{
    public List<double> Latencies { get; } = [];

    public TimeSpan Elapsed { get; set; }

    public double Rate => Latencies.Count / Elapsed.TotalSeconds;

    public double P50 => BenchmarkReport.Percentile(Latencies, 0.5);

    public double P99 => BenchmarkReport.Percentile(Latencies, 0.99);
}
