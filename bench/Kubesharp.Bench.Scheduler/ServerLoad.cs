using System.Diagnostics;
using System.Globalization;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

/// <summary>
/// Load against a running server: <c>deploy</c> times a Deployment from create to all replicas Ready; <c>pods</c>
/// creates bare pods and waits until all are bound; <c>nodes</c> waits until the count of Ready nodes is reached.
/// All pods tolerate the simulated nodes' taint.
/// </summary>
internal static class ServerLoad
{
    private const string Namespace = "bench";

    public static async Task<int> RunAsync(string mode, string kubeconfig, int count)
    {
        using var client = KubernetesClient.FromKubeconfig(kubeconfig);
        // Hundreds of thousands of pods (server-bench.sh --scale) take a while on a small machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(120));
        var clock = Stopwatch.StartNew();
        switch (mode)
        {
            case "nodes":
                while (true)
                {
                    var nodes = await client.Resource<Node>().ListAsync(null, cancellationToken: timeout.Token);
                    var ready = nodes.Items.Count(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
                    if (ready >= count)
                    {
                        Console.WriteLine($"nodes={ready} ready after {clock.Elapsed.TotalSeconds:F1}s");
                        return 0;
                    }

                    await Task.Delay(2000, timeout.Token);
                }

            case "deploy":
                await EnsureNamespaceAsync(client, timeout.Token);
                var deployments = client.Resource<Deployment>();
                var name = "bench-" + count.ToString(CultureInfo.InvariantCulture);
                clock.Restart();
                await deployments.CreateAsync(new Deployment
                {
                    Metadata = new ObjectMeta { Name = name, Namespace = Namespace },
                    Spec = new DeploymentSpec
                    {
                        Replicas = count,
                        Selector = new LabelSelector { MatchLabels = new() { ["app"] = name } },
                        Template = new PodTemplateSpec { Metadata = new ObjectMeta { Labels = new() { ["app"] = name } }, Spec = PodSpec() },
                    },
                }, cancellationToken: timeout.Token);
                // A watch the server ends early is picked up again from a fresh read.
                var allReady = false;
                while (!allReady)
                {
                    var start = await deployments.GetAsync(Namespace, name, timeout.Token);
                    allReady = start.Status?.ReadyReplicas == count;
                    if (allReady)
                    {
                        break;
                    }

                    await foreach (var e in deployments.WatchAsync(Namespace, new ListOptions { ResourceVersion = start.Metadata!.ResourceVersion, FieldSelector = "metadata.name=" + name }, timeout.Token))
                    {
                        if (e.Object.Status?.ReadyReplicas == count)
                        {
                            allReady = true;
                            break;
                        }
                    }
                }

                Console.WriteLine($"deployment replicas={count} all-ready-in={clock.Elapsed.TotalSeconds:F1}s");
                return 0;

            case "pods":
                await EnsureNamespaceAsync(client, timeout.Token);
                var pods = client.Resource<Pod>();
                await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = timeout.Token }, async (i, ct) =>
                {
                    await pods.CreateAsync(new Pod
                    {
                        Metadata = new ObjectMeta { Name = "load-" + i.ToString(CultureInfo.InvariantCulture), Namespace = Namespace, Labels = new() { ["app"] = "load" } },
                        Spec = PodSpec(),
                    }, cancellationToken: ct);
                });
                var created = clock.Elapsed.TotalSeconds;

                // Counted from a watch: listing tens of thousands of pods every few seconds would load the server
                // whose memory is being measured.
                var running = new HashSet<string>(StringComparer.Ordinal);
                while (running.Count < count)
                {
                    // A watch the server ends early is picked up again from a fresh list.
                    var initial = await pods.ListAsync(Namespace, cancellationToken: timeout.Token);
                    running.Clear();
                    foreach (var p in initial.Items.Where(p => p.Status?.Phase == "Running"))
                    {
                        running.Add(p.Metadata!.Name!);
                    }

                    if (running.Count >= count)
                    {
                        break;
                    }

                    await foreach (var e in pods.WatchAsync(Namespace, new ListOptions { ResourceVersion = initial.ResourceVersion }, timeout.Token))
                    {
                        if (e.Object.Status?.Phase == "Running")
                        {
                            running.Add(e.Object.Metadata!.Name!);
                        }

                        if (running.Count >= count)
                        {
                            break;
                        }
                    }
                }

                Console.WriteLine($"pods={count} created-in={created:F1}s all-running-in={clock.Elapsed.TotalSeconds:F1}s");
                return 0;

            default:
                await Console.Error.WriteLineAsync("modes: deploy|pods|nodes KUBECONFIG COUNT");
                return 2;
        }
    }

    private static PodSpec PodSpec() => new()
    {
        Tolerations = [new Toleration { Key = "kubesharp.io/simulated", Operator = "Exists", Effect = "NoSchedule" }],
        Containers = [new Container { Name = "c", Image = "registry.k8s.io/pause:3.10", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("10m"), ["memory"] = Quantity.Parse("16Mi") } } }],
    };

    private static async Task EnsureNamespaceAsync(KubernetesClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = Namespace } }, cancellationToken: cancellationToken);
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.IsAlreadyExists())
        {
        }
    }
}
