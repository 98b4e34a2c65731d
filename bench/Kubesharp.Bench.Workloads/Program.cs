using System.Globalization;
using Kubesharp.Bench.Common;
using Kubesharp.Client;

// Workload controllers at scale: the real `kubesharp server --disable-agent --simulated-nodes N` as its own process,
// and through its API a Job of 1,000 completions with parallelism 100 to Complete, a DaemonSet rolled out and then
// updated across every node, a 100-replica OrderedReady StatefulSet to all Ready, each beside a Deployment of the
// same size in the same run. Usage: [--quick] [--write BENCHMARKS.md] [--nodes N] [--completions C] [--parallelism P]
// [--statefulset-replicas R]. Full runs take the median of three runs of each; --quick runs each once.
string? markdownPath = null;
var nodes = 1000;
var completions = 1000;
var parallelism = 100;
var statefulReplicas = 100;
var runs = 3;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick": runs = 1; break;
        case "--write": markdownPath = args[++i]; break;
        case "--nodes": nodes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--completions": completions = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--parallelism": parallelism = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--statefulset-replicas": statefulReplicas = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default:
            await Console.Error.WriteLineAsync($"unknown argument {args[i]}");
            return 2;
    }
}

using var cancel = new CancellationTokenSource(TimeSpan.FromHours(2));
var token = cancel.Token;
var loads = new List<double> { LoadAverage() };
using var server = await SimulatedServer.StartAsync(nodes);
using var client = KubernetesClient.FromKubeconfig(server.Kubeconfig);
var load = new WorkloadLoad(client);
var ready = await load.ReadyNodesAsync(nodes, token);
if (ready < nodes)
{
    await Console.Error.WriteLineAsync($"only {ready} of {nodes} simulated nodes became Ready");
    return 1;
}

await load.EnsureNamespaceAsync(token);
var job = new List<double>();
var daemonReady = new List<double>();
var daemonUpdated = new List<double>();
var deploymentReady = new List<double>();
var deploymentUpdated = new List<double>();
var stateful = new List<double>();
var smallDeployment = new List<double>();
for (var run = 0; run < runs; run++)
{
    job.Add(await load.JobAsync(completions, parallelism, token));
    Console.Error.WriteLine($"job completions={completions} parallelism={parallelism} complete-in={job[^1]:F1}s");
    var (dsReady, dsUpdated) = await load.DaemonSetAsync(nodes, token);
    daemonReady.Add(dsReady);
    daemonUpdated.Add(dsUpdated);
    Console.Error.WriteLine($"daemonset nodes={nodes} available-in={dsReady:F1}s updated-in={dsUpdated:F1}s");
    var (deployReady, deployUpdated) = await load.DeploymentAsync(nodes, update: true, token);
    deploymentReady.Add(deployReady);
    deploymentUpdated.Add(deployUpdated);
    Console.Error.WriteLine($"deployment replicas={nodes} ready-in={deployReady:F1}s updated-in={deployUpdated:F1}s");
    loads.Add(LoadAverage());
    stateful.Add(await load.StatefulSetAsync(statefulReplicas, token));
    Console.Error.WriteLine($"statefulset replicas={statefulReplicas} ready-in={stateful[^1]:F1}s");
    smallDeployment.Add((await load.DeploymentAsync(statefulReplicas, update: false, token)).Ready);
    Console.Error.WriteLine($"deployment replicas={statefulReplicas} ready-in={smallDeployment[^1]:F1}s");
    loads.Add(LoadAverage());
}

// The Job's pods are as many as its completions: its peer is a Deployment of that many replicas.
var jobPeer = deploymentReady;
if (completions != nodes)
{
    jobPeer = [];
    for (var run = 0; run < runs; run++)
    {
        jobPeer.Add((await load.DeploymentAsync(completions, update: false, token)).Ready);
    }
}

static double Median(List<double> values) => BenchmarkReport.Percentile(values, 0.5);
static string S(double seconds) => BenchmarkReport.Format(seconds, "F1") + " s";
static double LoadAverage() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

var rows = new[]
{
    ($"Job, {completions:N0} completions, parallelism {parallelism}: create → Complete", Median(job), $"{completions:N0} replicas: create → all Ready", Median(jobPeer)),
    ($"DaemonSet on {nodes:N0} nodes: create → all available", Median(daemonReady), $"{nodes:N0} replicas: create → all Ready", Median(deploymentReady)),
    ($"DaemonSet on {nodes:N0} nodes: new image → updated and available everywhere", Median(daemonUpdated), $"{nodes:N0} replicas: new image → all updated and available", Median(deploymentUpdated)),
    ($"StatefulSet, {statefulReplicas:N0} replicas, OrderedReady: create → all Ready", Median(stateful), $"{statefulReplicas:N0} replicas: create → all Ready", Median(smallDeployment)),
};
foreach (var (scenario, ours, peer, peerSeconds) in rows)
{
    Console.WriteLine($"{scenario}: {S(ours)}; Deployment {peer}: {S(peerSeconds)}; ratio {BenchmarkReport.Ratio(ours, peerSeconds)}");
}

if (markdownPath is not null)
{
    var table = string.Join("\n", rows.Select(r => $"| {r.Item1} | {S(r.Item2)} | {r.Item3}: {S(r.Item4)} | {BenchmarkReport.Ratio(r.Item2, r.Item4)} |"));
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Workloads", $"""
        ## Workloads

        Program: `bench/Kubesharp.Bench.Workloads`. The real `kubesharp server --disable-agent --simulated-nodes {nodes:N0}`
        (Release, SQLite; {KubesharpExecutable.Description}) as its own process, and through its API one workload at a time, each timed from its create
        (or update) request until its status, read back every 100 ms, shows the state named; every pod tolerates the
        simulated taint and requests 10m cpu and 16Mi, the Job's pods exit 0 as soon as they run. Each workload stands
        beside a Deployment of the same size in the same run; rolling updates allow 10% unavailable and no surge for
        both the DaemonSet and the Deployment. A workload and its pods are deleted and gone before the next one starts.
        {(runs == 1 ? "One run of each" : $"Median of {runs} runs of each")}. Load average (1 min) around the runs: {loads.Min().ToString("F1", CultureInfo.InvariantCulture)}–{loads.Max().ToString("F1", CultureInfo.InvariantCulture)} on {Environment.ProcessorCount} cores.
        An OrderedReady StatefulSet starts one pod only when the one before it is Ready, so its ratio to a Deployment
        (all pods at once) is expected to be well above 1.

        | scenario | workload | Deployment of the same size | workload / Deployment |
        |---|--:|--:|--:|
        {table}
        """);
}

return 0;
