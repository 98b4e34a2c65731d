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

/// <summary>
/// Managed memory per pod in one process holding the API server (watch cache over SQLite), the scheduler and
/// simulated nodes that run the pods: the live heap after a full compacting collection with the nodes only,
/// then with every pod bound, divided by the pod count. Usage: memory [NODES PODS] (default 50 nodes, 5,000 pods).
/// </summary>
internal static class MemoryBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var nodeCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var podCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5000;
        var dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        try
        {
            await using var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dataDir, "state.db") }, CancellationToken.None);
            await using var host = await ApiServerHost.StartAsync(
                new ApiServerOptions { DataDir = dataDir, HttpsPort = 0 },
                store,
                BuiltinResources.Complete(ApiCatalog.Resources),
                null,
                NullLoggerFactory.Instance,
                TimeProvider.System,
                CancellationToken.None);
            await host.Ready;
            using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
            using var nodes = new SimulatedNodeHost(client, new SimulatedNodeOptions
            {
                Count = nodeCount,
                Taint = false,
                LeaseRenewInterval = TimeSpan.FromMinutes(10),
                StatusReportInterval = TimeSpan.FromHours(1),
            });
            await nodes.StartAsync(CancellationToken.None);
            await nodes.Ready;
            using var scheduler = new SchedulerService(client);
            await scheduler.StartAsync(CancellationToken.None);
            await scheduler.Started;
            try
            {
                await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = "bench" } });
            }
            catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsAlreadyExists())
            {
            }

            var before = Heap();
            var pods = client.Resource<Pod>();
            await Parallel.ForEachAsync(Enumerable.Range(0, podCount), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await pods.CreateAsync(new Pod
                {
                    Metadata = new ObjectMeta { Name = "pod-" + i.ToString(CultureInfo.InvariantCulture), Namespace = "bench", Labels = new() { ["app"] = "bench" } },
                    Spec = new PodSpec
                    {
                        // No node lifecycle controller runs in this process to lift the not-ready taint nodes register with.
                        Tolerations = [new Toleration { Key = "node.kubernetes.io/not-ready", Operator = "Exists", Effect = "NoSchedule" }],
                        Containers = [new Container { Name = "c", Image = "registry.k8s.io/pause:3.10", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("10m"), ["memory"] = Quantity.Parse("16Mi") } } }],
                    },
                }, cancellationToken: ct));
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var list = await pods.ListAsync("bench");
                // Bound, not Running: no node IPAM or lifecycle controller runs here, so the simulated nodes do not start pods.
                var running = list.Items.Count(p => !string.IsNullOrEmpty(p.Spec?.NodeName));
                if (running == podCount)
                {
                    break;
                }

                if (clock.Elapsed > TimeSpan.FromMinutes(20))
                {
                    Console.Error.WriteLine($"only {running} of {podCount} pods bound");
                    return 1;
                }

                await Task.Delay(1000);
            }

            var after = Heap();
            Console.WriteLine($"memory nodes={nodeCount} pods={podCount} heap-before={before / 1024}kB heap-after={after / 1024}kB per-pod={(after - before) / 1024.0 / podCount:F1}kB load={File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            await scheduler.StopAsync(CancellationToken.None);
            await nodes.StopAsync(CancellationToken.None);
            return 0;
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

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
