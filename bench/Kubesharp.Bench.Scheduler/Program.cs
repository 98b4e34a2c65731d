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
using Kubesharp.Scheduler.Framework;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

if (args.Length > 0 && args[0] is "deploy" or "pods" or "nodes")
{
    // Modes against a running `kubesharp server` (see server-bench.sh): MODE KUBECONFIG COUNT.
    return await ServerLoad.RunAsync(args[0], args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
}

if (args.Length > 0 && args[0] == "plan")
{
    // What-if scheduling: a plan beside the same pods scheduled for real (see PlanBench).
    return await PlanBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "memory")
{
    // Managed heap per pod of the server, scheduler and simulated nodes in one process (see MemoryBench).
    return await MemoryBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "server-report")
{
    // server-bench.sh --write: its figures become their own section of BENCHMARKS.md.
    return await ServerReport.WriteAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "scale-report")
{
    // server-bench.sh --scale --write: the scale run's figures, a section of their own.
    return await ScaleReport.WriteAsync(args[1..]);
}

// Scheduler throughput: an in-process API server on loopback over SQLite, N simulated nodes, the scheduler,
// 1,000 unmeasured pods scheduled first (as upstream's SchedulingBasic), then P pods created as fast as the API accepts them; a pod's latency runs from its create request to the
// watch event that shows it bound. Usage: [--quick] [--scheduler-https] [--write BENCHMARKS.md] [NODES PODS]; without NODES PODS it
// measures 10,000 pods on 1,000 and on 5,000 nodes (--quick: 2,000 pods on 5,000 nodes, the node count of upstream's published floor).
string? markdownPath = null;
var schedulerOverHttps = false;
var sizes = new List<(int Nodes, int Pods)>();
var positional = new List<int>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick": sizes.Add((5000, 2000)); break;
        case "--write": markdownPath = args[++i]; break;
        // The scheduler's client over loopback HTTPS instead of the in-process transport the server gives it.
        case "--scheduler-https": schedulerOverHttps = true; break;
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
var loads = new List<double>();
foreach (var (nodeCount, podCount) in sizes)
{
    loads.Add(LoadAverage());
    var core = MeasureAlgorithm(nodeCount, podCount);
    var run = await MeasureAsync(nodeCount, podCount, schedulerOverHttps);
    rows.Add($"| {podCount:N0} pods on {nodeCount:N0} simulated nodes | {run.Throughput:F0} | {run.CreateRate:F0} | {run.P50:F0} ms | {run.P99:F0} ms | "
        + $"{run.AlgorithmMicros:F0} µs | {run.BindRate:F0} | {core:F0} | "
        + (nodeCount == 5000 ? $"{BenchmarkReport.Ratio(run.Throughput, 810)}–{BenchmarkReport.Ratio(run.Throughput, 680)}" : "–") + " | this program |");
    loads.Add(LoadAverage());
}

if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Scheduler", $"""
        ## Scheduler

        Program: `bench/Kubesharp.Bench.Scheduler`. An in-process API server (the benchmark's own process, {ProcessBuild()}) over SQLite on loopback, simulated nodes
        (pods tolerate their not-ready taint; left bound rather than run), the scheduler, and pods (100m cpu, 128Mi each) created by 32
        concurrent clients. As in upstream's SchedulingBasic workload (the source of its floor), 1,000 pods are created and
        scheduled first, unmeasured; then the measured pods. Latency runs from a pod's create request to the watch event showing it bound. pods/s is
        pods over the time from the first create to the last pod bound; creates/s is the creators' rate alone; the
        scheduler columns come from its own counters: time in the scheduling cycle per pod (snapshot, filters, scores,
        verdict) and binding calls completed per second while binding ran. "cycle only" runs the same scheduling
        algorithm over the same number of nodes without any API (placements applied directly): what the scheduler
        alone could sustain on this machine. The ratio column divides our pods/s by upstream's published floor at the
        same node count. Load average (1 min) around the runs: {loads.Min():F1}–{loads.Max():F1} on {Environment.ProcessorCount} cores.

        | scenario | pods/s | creates/s | p50 create→bound | p99 create→bound | cycle per pod | binds/s | cycle only, pods/s | ratio to upstream floor | source |
        |---|--:|--:|--:|--:|--:|--:|--:|--:|---|
        {string.Join('\n', rows)}
        | upstream kube-scheduler CI floor, 5,000 nodes | 680–810 | – | – | – | – | – | – | – | published by upstream's scheduler_perf, not measured here |
        """);
}

return 0;

static string ProcessBuild() => BenchProcess.IsNative
    ? BenchProcess.Build + " with the server's collector settings, as the kubesharp executable is"
    : BenchProcess.Build + " with the server's collector settings and without dynamic PGO, whose instrumented tiers would still be compiling during the measured second";

static async Task<RunFigures> MeasureAsync(int nodeCount, int podCount, bool schedulerOverHttps)
{
    // Upstream's SchedulingBasic/5000Nodes schedules 1,000 pods before it measures.
    const int initPods = 1000;
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

        // The scheduler as the server runs it: its own identity, through the in-process transport (or loopback HTTPS);
        // the pod creators stay external HTTPS clients.
        var (schedulerCertificate, schedulerKey) = Kubesharp.ApiServer.Security.ComponentIdentities.Issue(host.Certificates, Kubesharp.ApiServer.Security.ComponentIdentities.Scheduler, TimeProvider.System);
        var schedulerOptions = new KubernetesClientOptions { Server = host.Url, CertificateAuthorityPem = host.Certificates.CaPem, ClientCertificatePem = schedulerCertificate, ClientKeyPem = schedulerKey, UserAgent = "kube-scheduler" };
        using var schedulerIdentity = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(schedulerCertificate, schedulerKey);
        using var schedulerClient = schedulerOverHttps ? new KubernetesClient(schedulerOptions) : new KubernetesClient(schedulerOptions, host.CreateInProcessHandler(schedulerIdentity));
        using var scheduler = new SchedulerService(schedulerClient);
        await scheduler.StartAsync(CancellationToken.None);
        await scheduler.Started;

        var pods = client.Resource<Pod>();
        foreach (var name in new[] { "bench-init", "bench" })
        {
            try
            {
                await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = name } });
            }
            catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsAlreadyExists())
            {
            }
        }

        // As upstream's SchedulingBasic workload (the source of its published floor): pods scheduled before the
        // measured ones, so the cluster is not empty and every path has run once.
        var initStart = await pods.ListAsync("bench-init");
        using (var initTimeout = new CancellationTokenSource(TimeSpan.FromMinutes(10)))
        {
            var initBound = Task.Run(() => WatchUntilBoundAsync(pods, "bench-init", initStart.ResourceVersion, initPods, new ConcurrentDictionary<string, long>(StringComparer.Ordinal), initTimeout.Token));
            await Parallel.ForEachAsync(Enumerable.Range(0, initPods), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
                await pods.CreateAsync(BenchPod("bench-init", "init-" + i.ToString(CultureInfo.InvariantCulture)), cancellationToken: ct));
            await initBound;
        }

        var statsBefore = scheduler.Statistics;
        Console.WriteLine($"{initPods} pods scheduled before measuring");

        var created = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var bound = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var start = await pods.ListAsync("bench");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var allBound = Task.Run(() => WatchUntilBoundAsync(pods, "bench", start.ResourceVersion, podCount, bound, timeout.Token));

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, podCount), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var name = "pod-" + i.ToString(CultureInfo.InvariantCulture);
            created[name] = Stopwatch.GetTimestamp();
            await pods.CreateAsync(BenchPod("bench", name), cancellationToken: ct);
        });
        var createSeconds = clock.Elapsed.TotalSeconds;
        await allBound;
        var total = clock.Elapsed.TotalSeconds;
        var cpuPerPod = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / podCount;
        await scheduler.StopAsync(CancellationToken.None);
        await nodes.StopAsync(CancellationToken.None);

        var latencies = created.Select(c => Stopwatch.GetElapsedTime(c.Value, bound[c.Key]).TotalMilliseconds).Order().ToList();
        double Percentile(double p) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
        var after = scheduler.Statistics;
        var stats = after with
        {
            Attempts = after.Attempts - statsBefore.Attempts,
            Bound = after.Bound - statsBefore.Bound,
            BindFailures = after.BindFailures - statsBefore.BindFailures,
            AlgorithmTime = after.AlgorithmTime - statsBefore.AlgorithmTime,
            BindTime = after.BindTime - statsBefore.BindTime,
            QueueWait = after.QueueWait - statsBefore.QueueWait,
            FirstAttempts = after.FirstAttempts - statsBefore.FirstAttempts,
        };
        var bindSpan = Stopwatch.GetElapsedTime(bound.Values.Min(), bound.Values.Max()).TotalSeconds;
        var figures = new RunFigures(
            podCount / total,
            podCount / createSeconds,
            Percentile(0.50),
            Percentile(0.99),
            stats.AlgorithmTime.TotalMicroseconds / Math.Max(1, stats.Attempts),
            bindSpan > 0 ? stats.Bound / bindSpan : double.NaN);
        Console.WriteLine($"scheduler-transport={(schedulerOverHttps ? "https" : "in-process")} cpu-per-pod={cpuPerPod:F2}ms nodes={nodeCount} pods={podCount} created-in={createSeconds:F1}s all-bound-in={total:F1}s throughput={figures.Throughput:F0} pods/s "
            + $"creates={figures.CreateRate:F0}/s p50={figures.P50:F0}ms p99={figures.P99:F0}ms attempts={stats.Attempts} cycle={figures.AlgorithmMicros:F0}us/pod "
            + $"bound={stats.Bound} bind-failures={stats.BindFailures} binds={figures.BindRate:F0}/s mean-bind={stats.BindTime.TotalMilliseconds / Math.Max(1, stats.Bound):F0}ms max-in-flight={stats.MaxBindsInFlight} "
            + $"mean-queue-wait={stats.QueueWait.TotalMilliseconds / Math.Max(1, stats.FirstAttempts):F0}ms load={LoadAverage():F1}");
        return figures;
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

// The scheduling cycle alone: the default profile over nodeCount nodes like the simulated ones, each placement
// applied to the snapshot directly (what the scheduler's cache does on assume). Pods per second of one thread.
static double MeasureAlgorithm(int nodeCount, int podCount)
{
    var capacity = new Dictionary<string, Quantity> { ["cpu"] = Quantity.Parse("32"), ["memory"] = Quantity.Parse("256Gi"), ["pods"] = new Quantity(110) };
    var nodeObjects = Enumerable.Range(0, nodeCount).Select(i => new Node
    {
        Metadata = new ObjectMeta { Name = "sim-node-" + i.ToString(CultureInfo.InvariantCulture), Labels = new() { ["kubernetes.io/hostname"] = "sim-node-" + i.ToString(CultureInfo.InvariantCulture) } },
        Status = new NodeStatus { Capacity = capacity, Allocatable = capacity },
    });
    var snapshot = ClusterSnapshot.Build(nodeObjects, []);
    var algorithm = new SchedulingAlgorithm(SchedulerProfile.Default());
    var pods = Enumerable.Range(0, podCount).Select(i => new PodInfo(new Pod
    {
        Metadata = new ObjectMeta { Name = "pod-" + i.ToString(CultureInfo.InvariantCulture), Namespace = "bench", Labels = new() { ["app"] = "bench" } },
        Spec = new PodSpec
        {
            Containers = [new Container { Name = "c", Image = "registry.k8s.io/pause:3.10", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("100m"), ["memory"] = Quantity.Parse("128Mi") } } }],
        },
    })).ToList();
    var clock = Stopwatch.StartNew();
    foreach (var pod in pods)
    {
        var result = algorithm.Schedule(pod, snapshot);
        _ = SchedulingVerdict.ToJson(result, 1, DateTimeOffset.UtcNow, null);
        snapshot.Get(result.NodeName!)!.AddPod(pod);
    }

    var rate = podCount / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"cycle only: nodes={nodeCount} pods={podCount} {rate:F0} pods/s ({clock.Elapsed.TotalMicroseconds / podCount:F0} us/pod)");
    return rate;
}

// Watches the namespace from a list's version and notes when each pod is first seen bound, until count are.
static async Task WatchUntilBoundAsync(ResourceClient<Pod> pods, string ns, string? fromVersion, int count, ConcurrentDictionary<string, long> bound, CancellationToken cancellationToken)
{
    await foreach (var e in pods.WatchAsync(ns, new ListOptions { ResourceVersion = fromVersion }, cancellationToken))
    {
        if (e.Object.Spec?.NodeName is { Length: > 0 } && bound.TryAdd(e.Object.Metadata!.Name!, Stopwatch.GetTimestamp()) && bound.Count == count)
        {
            return;
        }
    }

    throw new InvalidOperationException($"the watch of {ns} ended with {bound.Count} of {count} pods bound");
}

static Pod BenchPod(string ns, string name) => new()
{
    Metadata = new ObjectMeta { Name = name, Namespace = ns, Labels = new() { ["app"] = "bench" } },
    Spec = new PodSpec
    {
        // No node lifecycle controller runs in this process to lift the not-ready taint nodes register with.
        Tolerations = [new Toleration { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoSchedule" }],
        Containers = [new Container { Name = "c", Image = "registry.k8s.io/pause:3.10", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("100m"), ["memory"] = Quantity.Parse("128Mi") } } }],
    },
};

static double LoadAverage() =>
    File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : double.NaN;

internal sealed record RunFigures(double Throughput, double CreateRate, double P50, double P99, double AlgorithmMicros, double BindRate);
