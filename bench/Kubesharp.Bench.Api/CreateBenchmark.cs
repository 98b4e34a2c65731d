using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Api;

/// <summary>
/// CREATE of a ConfigMap (or, with <c>pods</c>, of a pod as the scheduler benchmark creates them) alone, in alternating
/// rounds against the floor: the quick loop for work on the write path.
/// Besides rates and latencies it reports each process's CPU time per request (utime + stime from /proc), which a
/// loaded machine moves much less than it moves requests/s.
/// </summary>
internal static class CreateBenchmark
{
    private const int Rounds = 8;

    public static async Task RunAsync(string root, TimeSpan duration, bool pods)
    {
        using var server = await ServerProcess.StartKubesharpAsync(Path.Combine(root, "server"));
        using var client = ServerProcess.CreateClient(server.DataDir);
        using (var created = await client.PostAsync(new Uri(server.Url, "/api/v1/namespaces"), JsonContent.Create(new { apiVersion = "v1", kind = "Namespace", metadata = new { name = "bench" } })))
        {
            created.EnsureSuccessStatusCode();
        }

        var bodies = Path.Combine(root, "bodies");
        Directory.CreateDirectory(bodies);
        await File.WriteAllTextAsync(Path.Combine(bodies, "get.json"), "{}");
        await File.WriteAllTextAsync(Path.Combine(bodies, "list.json"), "{}");
        using var floor = await ServerProcess.StartFloorAsync(Path.Combine(server.DataDir, "server", "tls"), bodies);
        using var floorClient = ServerProcess.CreateClient(server.DataDir);
        Console.Error.WriteLine($"kubesharp pid {server.Pid}, floor pid {floor.Pid}; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        // Requests the server answered, warm-ups included, for allocation per request from its runtime counters.
        long answered = 0;
        foreach (var clients in new[] { 1, 32 })
        {
            var prefix = "c" + clients.ToString(CultureInfo.InvariantCulture) + "-";
            var path = pods ? "/api/v1/namespaces/bench/pods" : "/api/v1/namespaces/bench/configmaps";
            Task<HttpResponseMessage> Ours(HttpClient c, long n) => c.PostAsync(new Uri(server.Url, path), Body(pods, prefix + n.ToString(CultureInfo.InvariantCulture)));
            Task<HttpResponseMessage> Theirs(HttpClient c, long n) => c.PostAsync(new Uri(floor.Url, path), Body(pods, prefix + n.ToString(CultureInfo.InvariantCulture)));

            // Warm-up, unmeasured, then rounds alternating which goes first, each with the CPU its process spent.
            answered += (await Load.RunAsync(client, clients, duration / 2, (c, n) => Ours(c, n + 1_000_000_000))).Latencies.Count;
            await Load.RunAsync(floorClient, clients, duration / 2, (c, n) => Theirs(c, n + 1_000_000_000));
            var ours = new Side();
            var theirs = new Side();
            for (var round = 0; round < Rounds; round++)
            {
                var offset = (round + 1) * 10_000_000L;
                foreach (var first in round % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    var (side, process, httpClient, send) = first ? (ours, server, client, (Func<HttpClient, long, Task<HttpResponseMessage>>)Ours) : (theirs, floor, floorClient, Theirs);
                    var cpuBefore = process.CpuSeconds();
                    var (latencies, rate) = await Load.RunAsync(httpClient, clients, duration / 4, (c, n) => send(c, n + offset));
                    side.CpuSeconds += process.CpuSeconds() - cpuBefore;
                    side.Latencies.AddRange(latencies);
                    side.Rate += rate / Rounds;
                    answered += first ? latencies.Count : 0;
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CREATE {(pods ? "Pod" : "ConfigMap")}, {clients} client(s): {ours.Rate:F0}/s against the floor's {theirs.Rate:F0}/s = {ours.Rate / theirs.Rate:F2}; p50 {BenchmarkReport.Percentile(ours.Latencies, 0.5):F2} / {BenchmarkReport.Percentile(theirs.Latencies, 0.5):F2} ms, p99 {BenchmarkReport.Percentile(ours.Latencies, 0.99):F2} / {BenchmarkReport.Percentile(theirs.Latencies, 0.99):F2} ms; CPU per request {ours.CpuMillisecondsPerRequest:F3} / {theirs.CpuMillisecondsPerRequest:F3} ms"));
        }

        Console.Error.WriteLine($"kubesharp answered {answered} CREATEs; RSS {server.RssKilobytes() / 1024.0:F1} MB; load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static StringContent Body(bool pods, string name) => pods ? Pod(name) : ConfigMap(name);

    // The pod the scheduler benchmark creates: one container with requests, tolerating the simulated nodes' taint.
    private static StringContent Pod(string name) =>
        new("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":""" + "\"" + name + "\"" + ""","labels":{"app":"load"}},"spec":{"tolerations":[{"key":"kubesharp.io/simulated","operator":"Exists","effect":"NoSchedule"}],"containers":[{"name":"c","image":"registry.k8s.io/pause:3.10","resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}""", Encoding.UTF8, "application/json");

    private static StringContent ConfigMap(string name) =>
        new($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","labels":{"app":"bench"}},"data":{"key":"{{{new string('v', 256)}}}"}}""", Encoding.UTF8, "application/json");

    private sealed class Side
    {
        public List<double> Latencies { get; } = [];

        public double Rate { get; set; }

        public double CpuSeconds { get; set; }

        public double CpuMillisecondsPerRequest => CpuSeconds * 1000 / Latencies.Count;
    }
}
