using System.Diagnostics;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;

/// <summary>
/// Workloads on a running server with simulated nodes, each timed from its create (or update) request to the
/// state the issue names, read back through the API; each is deleted and its pods awaited gone before the next
/// run so runs do not share load. Every pod tolerates the simulated nodes' taint and requests 10m cpu, 16Mi.
/// </summary>
internal sealed class WorkloadLoad(KubernetesClient client)
{
    public const string Namespace = "bench";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(30);

    public async Task EnsureNamespaceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = Namespace } }, cancellationToken: cancellationToken);
        }
        catch (StatusException e) when (e.IsAlreadyExists())
        {
        }
    }

    public async Task<int> ReadyNodesAsync(int count, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var nodes = await client.Resource<Node>().ListAsync(null, cancellationToken: cancellationToken);
            var ready = nodes.Items.Count(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
            if (ready >= count || clock.Elapsed > Limit)
            {
                return ready;
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary>A Job of <paramref name="completions"/> pods, <paramref name="parallelism"/> at a time, each exiting 0 at once: seconds to Complete.</summary>
    public async Task<double> JobAsync(int completions, int parallelism, CancellationToken cancellationToken)
    {
        var jobs = client.Resource<Job>();
        var clock = Stopwatch.StartNew();
        await jobs.CreateAsync(new Job
        {
            Metadata = new ObjectMeta { Name = "batch", Namespace = Namespace },
            Spec = new JobSpec
            {
                Completions = completions,
                Parallelism = parallelism,
                Template = Template("batch", "Never", new() { ["kubesharp.io/simulated-exit-code"] = "0" }),
            },
        }, cancellationToken: cancellationToken);
        await UntilAsync(() => jobs.GetAsync(Namespace, "batch", cancellationToken), j => j.Status?.Conditions?.Any(c => c.Type == "Complete" && c.Status == "True") == true, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        await DeleteAsync(jobs, "batch", cancellationToken);
        return seconds;
    }

    /// <summary>A Deployment of <paramref name="replicas"/>: seconds to all Ready, then (when <paramref name="update"/>) seconds for a new image to be everywhere.</summary>
    public async Task<(double Ready, double Updated)> DeploymentAsync(int replicas, bool update, CancellationToken cancellationToken)
    {
        var deployments = client.Resource<Deployment>();
        var clock = Stopwatch.StartNew();
        var created = await deployments.CreateAsync(new Deployment
        {
            Metadata = new ObjectMeta { Name = "web", Namespace = Namespace },
            Spec = new DeploymentSpec
            {
                Replicas = replicas,
                Selector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } },
                Strategy = new DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new RollingUpdateDeployment { MaxUnavailable = "10%", MaxSurge = 0 } },
                Template = Template("web", "Always"),
            },
        }, cancellationToken: cancellationToken);
        await UntilAsync(() => deployments.GetAsync(Namespace, "web", cancellationToken), d => d.Status?.ReadyReplicas == replicas && d.Status?.UpdatedReplicas == replicas, cancellationToken);
        var ready = clock.Elapsed.TotalSeconds;
        var updated = double.NaN;
        if (update)
        {
            clock.Restart();
            var generation = await UpdateImageAsync(deployments, "web", d => d.Spec!.Template!, cancellationToken);
            await UntilAsync(
                () => deployments.GetAsync(Namespace, "web", cancellationToken),
                d => d.Status?.ObservedGeneration >= generation && d.Status?.UpdatedReplicas == replicas && d.Status?.AvailableReplicas == replicas && d.Status?.Replicas == replicas,
                cancellationToken);
            updated = clock.Elapsed.TotalSeconds;
        }

        await DeleteAsync(deployments, created.Metadata!.Name!, cancellationToken);
        return (ready, updated);
    }

    /// <summary>A DaemonSet on every node (<paramref name="nodes"/> of them): seconds to all available, then seconds for a new image to be everywhere.</summary>
    public async Task<(double Ready, double Updated)> DaemonSetAsync(int nodes, CancellationToken cancellationToken)
    {
        var daemonSets = client.Resource<DaemonSet>();
        var clock = Stopwatch.StartNew();
        await daemonSets.CreateAsync(new DaemonSet
        {
            Metadata = new ObjectMeta { Name = "agent", Namespace = Namespace },
            Spec = new DaemonSetSpec
            {
                Selector = new LabelSelector { MatchLabels = new() { ["app"] = "agent" } },
                UpdateStrategy = new DaemonSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new RollingUpdateDaemonSet { MaxUnavailable = "10%", MaxSurge = 0 } },
                Template = Template("agent", "Always"),
            },
        }, cancellationToken: cancellationToken);
        await UntilAsync(() => daemonSets.GetAsync(Namespace, "agent", cancellationToken), d => d.Status?.DesiredNumberScheduled == nodes && d.Status?.NumberAvailable == nodes, cancellationToken);
        var ready = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var generation = await UpdateImageAsync(daemonSets, "agent", d => d.Spec!.Template!, cancellationToken);
        await UntilAsync(
            () => daemonSets.GetAsync(Namespace, "agent", cancellationToken),
            d => d.Status?.ObservedGeneration >= generation && d.Status?.UpdatedNumberScheduled == nodes && d.Status?.NumberAvailable == nodes && d.Status?.CurrentNumberScheduled == nodes,
            cancellationToken);
        var updated = clock.Elapsed.TotalSeconds;
        await DeleteAsync(daemonSets, "agent", cancellationToken);
        return (ready, updated);
    }

    /// <summary>A StatefulSet of <paramref name="replicas"/> with OrderedReady pod management: seconds to all Ready.</summary>
    public async Task<double> StatefulSetAsync(int replicas, CancellationToken cancellationToken)
    {
        var statefulSets = client.Resource<StatefulSet>();
        var clock = Stopwatch.StartNew();
        await statefulSets.CreateAsync(new StatefulSet
        {
            Metadata = new ObjectMeta { Name = "db", Namespace = Namespace },
            Spec = new StatefulSetSpec
            {
                Replicas = replicas,
                ServiceName = "db",
                PodManagementPolicy = "OrderedReady",
                Selector = new LabelSelector { MatchLabels = new() { ["app"] = "db" } },
                Template = Template("db", "Always"),
            },
        }, cancellationToken: cancellationToken);
        await UntilAsync(() => statefulSets.GetAsync(Namespace, "db", cancellationToken), s => s.Status?.ReadyReplicas == replicas, cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        await DeleteAsync(statefulSets, "db", cancellationToken);
        return seconds;
    }

    private static PodTemplateSpec Template(string app, string restartPolicy, Dictionary<string, string>? annotations = null) => new()
    {
        Metadata = new ObjectMeta { Labels = new() { ["app"] = app }, Annotations = annotations },
        Spec = new PodSpec
        {
            RestartPolicy = restartPolicy,
            TerminationGracePeriodSeconds = 0,
            Tolerations = [new Toleration { Key = "kubesharp.io/simulated", Operator = "Exists", Effect = "NoSchedule" }],
            Containers = [new Container { Name = "c", Image = "registry.k8s.io/pause:3.10", Resources = new ResourceRequirements { Requests = new() { ["cpu"] = Quantity.Parse("10m"), ["memory"] = Quantity.Parse("16Mi") } } }],
        },
    };

    /// <summary>Sets a new image on the object's template (retrying on conflict); returns the new generation.</summary>
    private static async Task<long> UpdateImageAsync<T>(ResourceClient<T> resource, string name, Func<T, PodTemplateSpec> template, CancellationToken cancellationToken)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await resource.GetAsync(Namespace, name, cancellationToken);
            template(current).Spec!.Containers![0].Image = "registry.k8s.io/pause:3.9";
            try
            {
                var updated = await resource.UpdateAsync(current, cancellationToken: cancellationToken);
                return updated.Metadata!.Generation ?? 0;
            }
            catch (StatusException e) when (e.IsConflict() && attempt < 20)
            {
            }
        }
    }

    private static async Task UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!done(await read()))
        {
            if (clock.Elapsed > Limit)
            {
                throw new TimeoutException($"not reached within {Limit.TotalMinutes} minutes");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Deletes the workload with its pods in the background and waits until no pod is left in the namespace.</summary>
    private async Task DeleteAsync<T>(ResourceClient<T> resource, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        await resource.DeleteAsync(Namespace, name, new DeleteOptions { PropagationPolicy = "Background" }, cancellationToken);
        var pods = client.Resource<Pod>();
        await UntilAsync(() => pods.ListAsync(Namespace, new ListOptions { Limit = 1 }, cancellationToken), l => l.Items.Count == 0, cancellationToken);
    }
}
