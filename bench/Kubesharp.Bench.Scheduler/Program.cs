using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Bench.Common;
using Kubesharp.Client;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

if (args.Length > 0 && args[0] is "deploy" or "pods" or "nodes")
{
    // Modes against a running `kubesharp server` (see server-bench.sh): MODE KUBECONFIG COUNT.
    return await ServerLoad.RunAsync(args[0], args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
}

// Scheduler throughput: an in-process API server on loopback over SQLite, N simulated nodes, the scheduler,
// and P pods created as fast as the API accepts them; a pod's latency runs from its create request to the
// watch event that shows it bound. Usage: [--quick] [--write BENCHMARKS.md] [NODES PODS]; without NODES PODS it
// measures 10,000 pods on 1,000 and on 5,000 nodes (--quick: 2,000 pods on 1,000 nodes).
string? markdownPath = null;
var sizes = new List<(int Nodes, int Pods)>();
var positional = new List<int>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick": sizes.Add((1000, 2000)); break;
        case "--write": markdownPath = args[++i]; break;
        default: positional.Add(int.Parse(args[i], CultureInfo.InvariantCulture)); break;
    }
}

if (positional.Count == 2)
{
    sizes = [(positional[0], positional[1])];
}
else if (sizes.Count == 0)
{
    sizes = [(1000, 10_000), (5000, 10_000)];
}

var rows = new List<string>();
foreach (var (nodeCount, podCount) in sizes)
{
    var (throughput, p50, p99) = await MeasureAsync(nodeCount, podCount);
    rows.Add($"| {podCount:N0} pods on {nodeCount:N0} simulated nodes | {throughput:F0} | {p50:F0} ms | {p99:F0} ms | "
        + (nodeCount == 5000 ? $"{BenchmarkReport.Ratio(throughput, 680)}–{BenchmarkReport.Ratio(throughput, 810)}" : "–") + " | this program |");
}

if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Scheduler", $"""
        ## Scheduler

        Program: `bench/Kubesharp.Bench.Scheduler`. An in-process API server over SQLite on loopback, simulated nodes
        (no taint, pods left bound rather than run), the scheduler, and pods (100m cpu, 128Mi each) created by 32
        concurrent clients; latency runs from a pod's create request to the watch event showing it bound. The ratio
        column divides our pods/s by upstream's published floor at the same node count.

        | scenario | pods/s | p50 create→bound | p99 create→bound | ratio to upstream floor | source |
        |---|--:|--:|--:|--:|---|
        {string.Join('\n', rows)}
        | upstream kube-scheduler CI floor, 5,000 nodes | 680–810 | – | – | – | published by upstream's scheduler_perf, not measured here |
        """);
}

return 0;

static async Task<(double Throughput, double P50, double P99)> MeasureAsync(int nodeCount, int podCount)
{
    var dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-bench-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dataDir);
    try
    {
        await using var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dataDir, "state.db") }, CancellationToken.None);
        await using var host = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = dataDir, HttpsPort = 0, WatchCacheEventsPerResource = 50_000 },
            store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await host.Ready;
        using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);

        var setup = Stopwatch.StartNew();
        using var nodes = new SimulatedNodeHost(client, new SimulatedNodeOptions
        {
            Count = nodeCount,
            Taint = false,
            ServePods = false,
            LeaseRenewInterval = TimeSpan.FromMinutes(10),
            StatusReportInterval = TimeSpan.FromHours(1),
            Concurrency = 32,
        });
        await nodes.StartAsync(CancellationToken.None);
        await nodes.Ready;
        Console.WriteLine($"{nodeCount} nodes registered in {setup.Elapsed.TotalSeconds:F1} s");

        using var scheduler = new SchedulerService(client);
        await scheduler.StartAsync(CancellationToken.None);
        await scheduler.Started;

        var created = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var bound = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var allBound = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pods = client.Resource<Pod>();
        try
        {
            await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = "bench" } });
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsAlreadyExists())
        {
        }

        var start = await pods.ListAsync("bench");
        using var stop = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in pods.WatchAsync("bench", new ListOptions { ResourceVersion = start.ResourceVersion }, stop.Token))
                {
                    if (e.Object.Spec?.NodeName is { Length: > 0 } && bound.TryAdd(e.Object.Metadata!.Name!, Stopwatch.GetTimestamp()) && bound.Count == podCount)
                    {
                        allBound.TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, podCount), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var name = "pod-" + i.ToString(CultureInfo.InvariantCulture);
            created[name] = Stopwatch.GetTimestamp();
            await pods.CreateAsync(new Pod
            {
                Metadata = new ObjectMeta { Name = name, Namespace = "bench", Labels = new() { ["app"] = "bench" } },
                Spec = new PodSpec
                {
                    Containers = [new Container { Name = "c", Image = "registry.k8s.io/pause:3.10", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("100m"), ["memory"] = Quantity.Parse("128Mi") } } }],
                },
            }, cancellationToken: ct);
        });
        var createSeconds = clock.Elapsed.TotalSeconds;
        await allBound.Task.WaitAsync(TimeSpan.FromMinutes(20));
        var total = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync();
        await watching;
        await scheduler.StopAsync(CancellationToken.None);
        await nodes.StopAsync(CancellationToken.None);

        var latencies = created.Select(c => Stopwatch.GetElapsedTime(c.Value, bound[c.Key]).TotalMilliseconds).Order().ToList();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        Console.WriteLine($"nodes={nodeCount} pods={podCount} created-in={createSeconds:F1}s all-bound-in={total:F1}s throughput={podCount / total:F0} pods/s p50={Percentile(0.50):F0}ms p99={Percentile(0.99):F0}ms");
        return (podCount / total, Percentile(0.50), Percentile(0.99));
    }
    finally
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
