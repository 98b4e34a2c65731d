using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Dns;
using Kubesharp.Dns.Wire;

// Cluster DNS throughput and latency over real UDP on loopback: 1000 Services in caches, a fixed number of
// concurrent clients each sending queries back to back. Usage: [seconds] [clients]
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;

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

var latencies = new List<double>[clients];
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
var watch = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
{
    var own = latencies[c] = [];
    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    await socket.ConnectAsync(server.UdpEndpoint!);
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

var all = latencies.SelectMany(l => l).Order().ToList();
double Percentile(double p) => all.Count == 0 ? double.NaN : all[Math.Min(all.Count - 1, (int)(p * all.Count))];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"queries {all.Count} in {watch.Elapsed.TotalSeconds:F1} s with {clients} clients: {all.Count / watch.Elapsed.TotalSeconds:F0} queries/s, p50 {Percentile(0.50):F3} ms, p99 {Percentile(0.99):F3} ms"));
