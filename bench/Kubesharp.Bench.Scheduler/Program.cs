using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
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
// watch event that shows it bound. Usage: Kubesharp.Bench.Scheduler [nodes] [pods]
var nodeCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var podCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
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

return 0;
