using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Bench.Common;
using Kubesharp.Client;
using Kubesharp.ControllerManager;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// <c>plan [NODES PODS] [--write BENCHMARKS.md]</c>: seconds for a SchedulingPlan of a PODS-replica Deployment on
/// NODES simulated nodes (the API server's plan endpoint, end to end over HTTPS), beside the same pods created and
/// scheduled for real (first create to last bound), on the same server.
/// </summary>
internal static class PlanBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? markdownPath = null;
        var positional = new List<int>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--write")
            {
                markdownPath = args[++i];
            }
            else
            {
                positional.Add(int.Parse(args[i], CultureInfo.InvariantCulture));
            }
        }

        var (nodeCount, podCount) = positional.Count == 2 ? (positional[0], positional[1]) : (5000, 1000);
        var loadBefore = LoadAverage();
        var dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        double planSeconds;
        double realSeconds;
        int planned;
        try
        {
            await using var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dataDir, "state.db") }, CancellationToken.None);
            await using var host = await ApiServerHost.StartAsync(
                new ApiServerOptions { DataDir = dataDir, HttpsPort = 0, WatchCacheEventsPerResource = 50_000 },
                store, BuiltinResources.Complete(ApiCatalog.Resources), null, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
            await host.Ready;
            using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
            using var nodes = new SimulatedNodeHost(client, new SimulatedNodeOptions
            {
                Count = nodeCount, Taint = false, ServePods = false, LeaseRenewInterval = TimeSpan.FromMinutes(10), StatusReportInterval = TimeSpan.FromHours(1), Concurrency = 32,
            });
            await nodes.StartAsync(CancellationToken.None);
            await nodes.Ready;
            // The node lifecycle controller lifts the not-ready taint that every node registers with; the grace period
            // outlasts the run, as the simulated nodes renew their leases rarely.
            using var controllers = new CancellationTokenSource();
            var controllerManager = ControllerManager.RunControllersAsync(
                client, new ControllerManagerOptions { LeaderElect = false, NodeMonitorGracePeriod = TimeSpan.FromHours(1) }, TimeProvider.System, NullLoggerFactory.Instance, controllers.Token);
            for (var i = 0; i < 1200 && (await client.Resource<Node>().ListAsync(null)).Items.Any(n => n.Spec?.Taints?.Any(t => t.Key == "node.kubernetes.io/not-ready") == true); i++)
            {
                await Task.Delay(500);
            }

            using var scheduler = new SchedulerService(client);
            await scheduler.StartAsync(CancellationToken.None);
            await scheduler.Started;

            // Until the server's cache holds every node (bounded), then three timed plans: the median counts.
            for (var i = 0; i < 600 && (int?)(await PlanAsync(client, 1))["status"]!["nodes"] < nodeCount; i++)
            {
                await Task.Delay(100);
            }

            var times = new List<double>();
            planned = 0;
            for (var run = 0; run < 3; run++)
            {
                var watch = Stopwatch.StartNew();
                var plan = await PlanAsync(client, podCount);
                times.Add(watch.Elapsed.TotalSeconds);
                planned = (int)plan["status"]!["scheduled"]!;
                Console.WriteLine($"plan {run + 1}: {times[^1]:F2} s, {planned} of {podCount} pods placed on {nodeCount} nodes");
            }

            planSeconds = times.Order().ElementAt(1);
            realSeconds = await ScheduleForRealAsync(client, podCount);
            Console.WriteLine($"scheduled for real: {realSeconds:F2} s");
            await scheduler.StopAsync(CancellationToken.None);
            await controllers.CancelAsync();
            try
            {
                await controllerManager;
            }
            catch (OperationCanceledException)
            {
            }

            await nodes.StopAsync(CancellationToken.None);
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

        var loadAfter = LoadAverage();
        if (markdownPath is not null)
        {
            await BenchmarkReport.WriteSectionAsync(markdownPath, "## What-if scheduling (plan)", $"""
                ## What-if scheduling (plan)

                Program: `bench/Kubesharp.Bench.Scheduler plan [NODES PODS]`. An in-process API server (the benchmark's own process, {BenchProcess.Build}) over SQLite on loopback,
                {nodeCount:N0} simulated nodes (no taint of their own; the node lifecycle controller lifts the not-ready one), the scheduler. "plan" is one POST of a plan.kubesharp.io/v1 SchedulingPlan
                holding a Deployment of {podCount:N0} replicas (100m cpu, 128Mi each) until its answer is read: the API server reads
                nodes and pods from its cache and runs the scheduler's algorithm once per pod (median of three). "for real" creates
                the same {podCount:N0} pods (32 concurrent clients) and waits until the scheduler has bound them all. Load average
                (1 min) before and after: {loadBefore:F1} and {loadAfter:F1} on {Environment.ProcessorCount} cores.

                | scenario | plan | for real | plan ÷ real | pods placed by the plan |
                |---|--:|--:|--:|--:|
                | {podCount:N0} pods on {nodeCount:N0} simulated nodes | {planSeconds:F2} s | {realSeconds:F2} s | {BenchmarkReport.Ratio(planSeconds, realSeconds)} | {planned:N0} |
                """);
        }

        return 0;
    }

    private static async Task<JsonObject> PlanAsync(KubernetesClient client, int replicas)
    {
        var deployment = JsonNode.Parse(
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"bench\"},\"spec\":{\"replicas\":" + replicas.ToString(CultureInfo.InvariantCulture)
            + ",\"selector\":{\"matchLabels\":{\"app\":\"bench\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"bench\"}},"
            + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}]}}}}")!;
        var plan = new JsonObject { ["apiVersion"] = "plan.kubesharp.io/v1", ["kind"] = "SchedulingPlan", ["spec"] = new JsonObject { ["objects"] = new JsonArray(deployment) } };
        return (await client.SendJsonAsync(HttpMethod.Post, "/apis/plan.kubesharp.io/v1/schedulingplans", plan))!;
    }

    private static async Task<double> ScheduleForRealAsync(KubernetesClient client, int podCount)
    {
        var pods = client.Resource<Pod>();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, podCount), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, token) =>
            await pods.CreateAsync(new Pod
            {
                Metadata = new ObjectMeta { Name = "real-" + i.ToString(CultureInfo.InvariantCulture), Namespace = "default" },
                Spec = new PodSpec { Containers = [new Container { Name = "c", Image = "busybox", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("100m"), ["memory"] = Quantity.Parse("128Mi") } } }] },
            }, cancellationToken: token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        while ((await pods.ListAsync("default", cancellationToken: timeout.Token)).Items.Count(p => !string.IsNullOrEmpty(p.Spec?.NodeName)) < podCount)
        {
            await Task.Delay(50, timeout.Token);
        }

        return watch.Elapsed.TotalSeconds;
    }

    private static double LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : double.NaN;
}
