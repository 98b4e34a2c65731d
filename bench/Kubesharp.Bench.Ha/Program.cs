using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kubesharp.Bench.Common;
using Kubesharp.Bench.Ha;

// High-availability benchmark, in one run: ConfigMap CREATE throughput (durable: etcd syncs every write) and p99 on
// three `kubesharp server --disable-agent` processes, each with its own etcd member (--cluster-init, then --server),
// beside one such server with a one-member etcd; then seconds from SIGKILL of the server whose etcd member leads
// (with its member) to a CREATE acknowledged through a survivor, beside three plain etcd processes with the same
// heartbeat and election timeout, whose leader is killed the same way and timed to a put through a survivor.
// Usage: Kubesharp.Bench.Ha [--quick] [--write BENCHMARKS.md]
const string Heading = "## Server failover (three servers, one killed)";
const string EtcdPath = "/usr/bin/etcd";
// The embedded members' timings (EtcdMemberSupervisor), given to the raw peer as well.
const string HeartbeatMs = "500";
const string ElectionMs = "5000";
const int Workers = 32;

var quick = args.Contains("--quick");
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
var duration = TimeSpan.FromSeconds(quick ? 4 : 10);
var rounds = quick ? 2 : 5;
if (!File.Exists(EtcdPath))
{
    Console.Error.WriteLine($"{EtcdPath} is missing: install the etcd-server package");
    return 2;
}

var root = Directory.CreateTempSubdirectory("kubesharp-bench-ha-").FullName;
var started = new List<HaServer>();
(List<double> Latencies, double Rate) one, three;
var failover = new List<double>();
var rawFailover = new List<double>();
try
{
    // One server, one member.
    var single = await HaServer.StartAsync(root, "single", "--cluster-init");
    started.Add(single);
    using (var client = single.CreateClient(TimeSpan.FromSeconds(60)))
    {
        await CreateNamespaceAsync(client, single.Url);
        await WriteLoad.RunAsync([(client, single.Url)], Workers, duration / 2, "warm");
        one = await WriteLoad.RunAsync([(client, single.Url)], Workers, duration, "one");
    }

    await single.DisposeAsync();
    started.Remove(single);
    Report("1 server", one);

    // Three servers, each with its member: the second and third join through the first.
    var a = await HaServer.StartAsync(root, "a", "--cluster-init");
    started.Add(a);
    var token = a.Token;
    foreach (var name in new[] { "b", "c" })
    {
        started.Add(await HaServer.StartAsync(root, name, "--server", a.Url.ToString(), "--token", token));
    }

    await EtcdLeaderAsync(started, TimeSpan.FromSeconds(120));
    var clients = started.Select(s => (Client: s.CreateClient(TimeSpan.FromSeconds(60)), s.Url)).ToList();
    try
    {
        await CreateNamespaceAsync(clients[0].Client, a.Url);
        await WriteLoad.RunAsync(clients, Workers, duration / 2, "warm");
        three = await WriteLoad.RunAsync(clients, Workers, duration, "three");
        Report("3 servers", three);

        for (var round = 0; round < rounds; round++)
        {
            var leader = await EtcdLeaderAsync(started, TimeSpan.FromSeconds(120));
            var survivor = started.IndexOf(started.First(s => s != leader));
            var (client, url) = clients[survivor];
            var clock = Stopwatch.StartNew();
            leader.Kill();
            for (var attempt = 0; ; attempt++)
            {
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    using var response = await client.PostAsync(new Uri(url, "/api/v1/namespaces/bench/configmaps"), WriteLoad.ConfigMap($"failover-{round}-{attempt}"), bound.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(120))
                {
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(120))
                {
                    throw new TimeoutException("no write succeeded through a surviving server within 120 s");
                }

                await Task.Delay(50);
            }

            failover.Add(clock.Elapsed.TotalSeconds);
            Console.Error.WriteLine($"servers: {leader.Name} (etcd leader) killed, write through {started[survivor].Name} after {failover[^1]:F2} s");

            // The killed server starts again on its data directory and ports; its member rejoins.
            await leader.StartAsync();
            await EtcdLeaderAsync(started, TimeSpan.FromSeconds(120));
        }
    }
    finally
    {
        foreach (var (client, _) in clients)
        {
            client.Dispose();
        }
    }

    foreach (var server in started.ToList())
    {
        await server.DisposeAsync();
        started.Remove(server);
    }

    // The peer: raw etcd's own leader failover.
    await using (var raw = await RawEtcdCluster.StartAsync(EtcdPath, Path.Combine(root, "raw"), HeartbeatMs, ElectionMs))
    {
        for (var round = 0; round < rounds; round++)
        {
            rawFailover.Add(await raw.KillLeaderAndTimeFailoverAsync(HeartbeatMs, ElectionMs, round));
            Console.Error.WriteLine($"raw etcd: leader killed, put through a survivor after {rawFailover[^1]:F2} s");
        }
    }
}
finally
{
    foreach (var server in started)
    {
        await server.DisposeAsync();
    }

    try
    {
        Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
    }
}

var section = new StringBuilder();
section.AppendLine(Heading);
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Ha`{(quick ? " --quick" : string.Empty)}. Three `kubesharp server --disable-agent` processes ({KubesharpExecutable.Description}) on loopback, each");
section.AppendLine("with its own etcd member (`--cluster-init`, then `--server` with the token), beside one such server with a one-member etcd,");
section.AppendLine(CultureInfo.InvariantCulture, $"in the same run. Writes: ConfigMap CREATEs (256 bytes of data) from {Workers} closed-loop clients for {duration.TotalSeconds:0} s after an unmeasured");
section.AppendLine(CultureInfo.InvariantCulture, $"{(duration / 2).TotalSeconds:0} s, spread over one HTTP/2 connection per server; etcd syncs every write before it is acknowledged.");
section.AppendLine(CultureInfo.InvariantCulture, $"Failover ({rounds} rounds): SIGKILL to the server whose etcd member leads and to that member, then a CREATE through a surviving");
section.AppendLine("server every 50 ms (each bounded to 2 s) until one is acknowledged; the killed server is started again and rejoins before");
section.AppendLine(CultureInfo.InvariantCulture, $"the next round. The peer: three plain `etcd` processes on loopback with the members' timings (heartbeat {HeartbeatMs} ms, election");
section.AppendLine(CultureInfo.InvariantCulture, $"timeout {ElectionMs} ms, k3s's), the leader killed the same way and timed to a put through a survivor.");
section.AppendLine();
section.AppendLine("| measurement | 3 servers | 1 server | 3 / 1 |");
section.AppendLine("|---|--:|--:|--:|");
Row("CREATE ConfigMap: durable writes/s", three.Rate, one.Rate, "N0");
Row("CREATE ConfigMap: p50 ms", BenchmarkReport.Percentile(three.Latencies, 0.5), BenchmarkReport.Percentile(one.Latencies, 0.5), "0.00");
Row("CREATE ConfigMap: p99 ms", BenchmarkReport.Percentile(three.Latencies, 0.99), BenchmarkReport.Percentile(one.Latencies, 0.99), "0.00");
section.AppendLine();
section.AppendLine("| leader killed → first write acknowledged through a survivor, s | Kubesharp (3 servers) | raw etcd (3 members) | Kubesharp / etcd |");
section.AppendLine("|---|--:|--:|--:|");
Row("median", BenchmarkReport.Percentile(failover, 0.5), BenchmarkReport.Percentile(rawFailover, 0.5), "0.00");
Row("worst", failover.Max(), rawFailover.Max(), "0.00");
section.AppendLine();
section.AppendLine("The write gap is etcd's: its followers wait out the election timeout before electing a new leader, and a surviving");
section.AppendLine("server's store goes on through its own member. The controller manager and scheduler Leases move after their 15 s");
section.AppendLine("duration plus the 2 s retry period (see `HighAvailabilityTests` for the leases and the agent's failover).");
Console.WriteLine(section);
if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, Heading, section.ToString());
}

return 0;

void Row(string name, double ours, double peer, string format) =>
    section.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {BenchmarkReport.Format(ours, format)} | {BenchmarkReport.Format(peer, format)} | {BenchmarkReport.Ratio(ours, peer)} |");

static void Report(string label, (List<double> Latencies, double Rate) figures) =>
    Console.Error.WriteLine($"{label}: {figures.Rate:F0} writes/s, p50 {BenchmarkReport.Percentile(figures.Latencies, 0.5):F2} ms, p99 {BenchmarkReport.Percentile(figures.Latencies, 0.99):F2} ms");

static async Task CreateNamespaceAsync(HttpClient client, Uri url)
{
    using var response = await client.PostAsync(new Uri(url, "/api/v1/namespaces"), WriteLoad.Json("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}"""));
    response.EnsureSuccessStatusCode();
}

// The server whose etcd member every running member names as leader, once they all agree.
static async Task<HaServer> EtcdLeaderAsync(IReadOnlyList<HaServer> servers, TimeSpan timeout)
{
    var clock = Stopwatch.StartNew();
    while (true)
    {
        var seen = new List<(HaServer Server, ulong Id, ulong Leader)>();
        foreach (var server in servers)
        {
            try
            {
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await using var member = await server.OpenMemberAsync(bound.Token);
                var status = await member.StatusAsync(bound.Token);
                seen.Add((server, status.Header.MemberId, status.Leader));
            }
            catch (Exception)
            {
            }
        }

        if (seen.Count == servers.Count && seen.All(s => s.Leader != 0 && s.Leader == seen[0].Leader) && seen.FirstOrDefault(s => s.Id == seen[0].Leader).Server is { } leader)
        {
            return leader;
        }

        if (clock.Elapsed > timeout)
        {
            throw new TimeoutException($"the servers' etcd members had no agreed leader within {timeout.TotalSeconds} s");
        }

        await Task.Delay(200);
    }
}
