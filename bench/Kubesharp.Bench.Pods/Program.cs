using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Bench.Common;
using Kubesharp.Bench.Pods;
using Kubesharp.Kubelet.Images;

// Pod benchmark, as root, on real containers (containerd, runc, CNI bridge):
// 1. pod start-up (create → Running as seen by a watch) on the real `kubesharp server` node, 1 pod at a time and
//    50 at once, beside the floor: the same RunPodSandbox + CreateContainer + StartContainer calls issued directly
//    to a containerd of the same configuration at the same concurrency;
// 2. replicated workloads against Docker Swarm (dockerd started here, loopback only): seconds until 20 and 50
//    replicas run, and a rolling image update of 20, Kubesharp doing the same with a Deployment.
// 3. persistent volumes: a pod with a fresh local-path claim beside the same pod with an emptyDir (VolumeBench).
// 4. --starts-only: containerd's own start and the node's start, alternating, each as many times as a run takes (for
//    tracing the node-start path); prints its figures and writes nothing.
// 5. --deployments-only: containerd's own start, the node's start and 20/50-replica Deployments, nothing else and no
//    peer (for tracing the node-start and Deployment paths); prints its figures and writes nothing.
// Usage: Kubesharp.Bench.Pods [--quick] [--skip-swarm] [--volumes-only] [--starts-only] [--deployments-only] [--write BENCHMARKS.md]
var quick = args.Contains("--quick");
var volumesOnly = args.Contains("--volumes-only");
var deploymentsOnly = args.Contains("--deployments-only");
var startsOnly = args.Contains("--starts-only");
var volumeRuns = quick ? 5 : 10;
List<(string Measurement, double Ours, double Floor)> volumeRows = [];
var skipSwarm = args.Contains("--skip-swarm");
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
var singleRuns = 10;
var burstRounds = quick ? 1 : 3;
// Node starts and replicated-workload runs are repeated in a full run; each figure is then a median and a worst case.
var rounds = quick ? 1 : 3;
// Starts are short and one is at the mercy of the machine's other work: even a quick run takes the median of three.
var startRounds = quick ? 3 : 5;
var idleSeconds = quick ? 5 : 15;
const int Burst = 50;
const string Image = "docker.io/kubesharp/busybox:bench";
const string UpdatedImage = "docker.io/kubesharp/busybox:bench-v2";
var cancellationToken = CancellationToken.None;

if (Environment.UserName != "root")
{
    Console.Error.WriteLine("Kubesharp.Bench.Pods runs containers and must run as root.");
    return 2;
}

var root = Directory.CreateTempSubdirectory("ksb-pods-").FullName;
var startup = new List<(string Measurement, double Ours, double Floor)>();
var peers = new List<(string Measurement, double Ours, double Swarm)>();
var nodeRows = new List<(string Measurement, double Ours, double Floor)>();
string? swarmVersion = null;
string? swarmUnavailable = null;

try
{
    // Two images from Debian's busybox-static (nothing can be pulled here), differing only in their command.
    const string Sleep = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";
    var first = await OciImageBuilder.BuildBusyboxAsync(Image, [], ["/bin/sh", "-c", Sleep], cancellationToken: cancellationToken);
    var second = OciImageBuilder.Assemble(UpdatedImage, first.Layers[0], [], ["/bin/sh", "-c", "version=2; " + Sleep]);
    var ociArchive = Path.Combine(root, "images.oci.tar");
    var dockerArchive = Path.Combine(root, "images.docker.tar");
    await OciImageBuilder.WriteOciArchiveAsync(ociArchive, [first, second], cancellationToken);
    await DockerSwarm.WriteDockerArchiveAsync(dockerArchive, [first, second], cancellationToken);
    if (volumesOnly)
    {
        await using var volumeNode = await KubesharpNode.StartAsync(Path.Combine(root, "kubesharp"), cancellationToken);
        await volumeNode.ImportAsync(ociArchive, cancellationToken);
        volumeRows = await VolumeBench.MeasureAsync(volumeNode, Image, volumeRuns, cancellationToken);
        var volumeSection = VolumeBench.Section(volumeRows, volumeRuns, quick);
        Console.WriteLine(volumeSection);
        if (markdownPath is not null)
        {
            await BenchmarkReport.WriteSectionAsync(markdownPath, "## Persistent volumes", volumeSection, cancellationToken);
        }

        return 0;
    }

    if (startsOnly)
    {
        for (var start = 0; start < startRounds; start++)
        {
            await using (var alone = await CriFloor.StartAsync(Path.Combine(root, $"floor-start-{start}"), ociArchive, cancellationToken))
            {
                Console.Error.WriteLine($"containerd alone: CRI answers and holds the sandbox image after {alone.StartupSeconds:F3} s");
            }

            await using var started = await KubesharpNode.StartAsync(Path.Combine(root, $"kubesharp-start-{start}"), cancellationToken);
            Console.Error.WriteLine($"kubesharp: /readyz {started.ReadyzSeconds:F3} s, node Ready {started.NodeReadySeconds:F3} s");
        }

        return 0;
    }

    if (deploymentsOnly)
    {
        await using (var alone = await CriFloor.StartAsync(Path.Combine(root, "floor"), ociArchive, cancellationToken))
        {
            Console.Error.WriteLine($"containerd alone: CRI answers after {alone.StartupSeconds:F2} s");
        }

        await using var deploymentNode = await KubesharpNode.StartAsync(Path.Combine(root, "kubesharp"), cancellationToken);
        Console.Error.WriteLine($"kubesharp: /readyz {deploymentNode.ReadyzSeconds:F2} s, node Ready {deploymentNode.NodeReadySeconds:F2} s");
        await deploymentNode.ImportAsync(ociArchive, cancellationToken);
        for (var round = 0; round < rounds; round++)
        {
            // The same count of bare pods first: what the Deployment adds is the difference.
            var bare = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, Burst).Select(n => deploymentNode.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", PodJson($"bare-{round}-{n}", Image), cancellationToken)));
            await WaitRunningAsync(deploymentNode, Burst, cancellationToken);
            Console.Error.WriteLine($"kubesharp: {Burst} bare pods Running in {Stopwatch.GetElapsedTime(bare).TotalSeconds:F2} s (load {File.ReadAllText("/proc/loadavg").Trim()})");
            await deploymentNode.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods?labelSelector=app%3Dbench-pods&gracePeriodSeconds=0", null, cancellationToken);
            await deploymentNode.WaitEmptyAsync(cancellationToken);

            foreach (var replicas in new[] { 20, 50 })
            {
                var name = "replicas-" + replicas.ToString(CultureInfo.InvariantCulture);
                var seconds = await DeploymentAsync(deploymentNode, name, replicas, Image, cancellationToken);
                Console.Error.WriteLine($"kubesharp: {replicas} replicas in {seconds:F2} s (load {File.ReadAllText("/proc/loadavg").Trim()})");
                await deploymentNode.SendAsync(HttpMethod.Delete, $"/apis/apps/v1/namespaces/default/deployments/{name}?propagationPolicy=Background", null, cancellationToken);
                await deploymentNode.WaitEmptyAsync(cancellationToken);
            }
        }

        return 0;
    }

    // Floor first, then Kubesharp: never both at once on this machine.
    List<double> floorSingle = [];
    List<double> floorBurst = [];
    List<double> floorStarts = [];
    var floorRss = double.NaN;
    for (var start = 1; start < startRounds; start++)
    {
        await using var extra = await CriFloor.StartAsync(Path.Combine(root, $"floor-start-{start}"), ociArchive, cancellationToken);
        floorStarts.Add(extra.StartupSeconds);
    }

    var floor = await CriFloor.StartAsync(Path.Combine(root, "floor"), ociArchive, cancellationToken);
    await using (floor)
    {
        floorStarts.Add(floor.StartupSeconds);
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds), cancellationToken);
        floorRss = floor.ContainerdProcessId is { } floorPid ? ProcessMemory.ResidentMegabytes(floorPid) : double.NaN;
        await floor.StartPodsAsync(1, Image, cancellationToken);
        await floor.RemoveAllAsync(cancellationToken);
        for (var run = 0; run < singleRuns; run++)
        {
            floorSingle.AddRange(await floor.StartPodsAsync(1, Image, cancellationToken));
            await floor.RemoveAllAsync(cancellationToken);
        }

        for (var round = 0; round < burstRounds; round++)
        {
            floorBurst.AddRange(await floor.StartPodsAsync(Burst, Image, cancellationToken));
            await floor.RemoveAllAsync(cancellationToken);
        }
    }

    Console.Error.WriteLine($"floor: 1 pod p50 {BenchmarkReport.Percentile(floorSingle, 0.5):F0} ms; {Burst} pods p50 {BenchmarkReport.Percentile(floorBurst, 0.5):F0} ms p99 {BenchmarkReport.Percentile(floorBurst, 0.99):F0} ms");

    List<double> ourSingle = [];
    List<double> ourBurst = [];
    var deployments = new Dictionary<string, List<double>>(StringComparer.Ordinal);
    List<double> readyz = [];
    List<double> nodeReady = [];
    for (var start = 1; start < startRounds; start++)
    {
        await using var extra = await KubesharpNode.StartAsync(Path.Combine(root, $"kubesharp-start-{start}"), cancellationToken);
        readyz.Add(extra.ReadyzSeconds);
        nodeReady.Add(extra.NodeReadySeconds);
    }

    var node = await KubesharpNode.StartAsync(Path.Combine(root, "kubesharp"), cancellationToken);
    await using (node)
    {
        readyz.Add(node.ReadyzSeconds);
        nodeReady.Add(node.NodeReadySeconds);
        await node.ImportAsync(ociArchive, cancellationToken);
        // Idle: the node is Ready, the images are in, no pods run.
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds), cancellationToken);
        var serverRss = ProcessMemory.ResidentMegabytes(node.ProcessId);
        var containerdRss = ProcessMemory.Children(node.ProcessId, "containerd").Sum(ProcessMemory.ResidentMegabytes);
        Console.Error.WriteLine($"kubesharp: /readyz {BenchmarkReport.Percentile(readyz, 0.5):F2} s, node Ready {BenchmarkReport.Percentile(nodeReady, 0.5):F2} s; idle RSS server {serverRss:F1} MB + containerd {containerdRss:F1} MB");
        nodeRows.Add(("seconds from start to node Ready, median (floor: containerd start until its CRI answers and it holds the sandbox image)", BenchmarkReport.Percentile(nodeReady, 0.5), BenchmarkReport.Percentile(floorStarts, 0.5)));
        nodeRows.Add(("seconds from start to node Ready, worst", BenchmarkReport.Percentile(nodeReady, 0.99), BenchmarkReport.Percentile(floorStarts, 0.99)));
        nodeRows.Add(("seconds from start to /readyz, median", BenchmarkReport.Percentile(readyz, 0.5), double.NaN));
        nodeRows.Add(("seconds from start to /readyz, worst", BenchmarkReport.Percentile(readyz, 0.99), double.NaN));
        nodeRows.Add(("idle RSS of the node's containerd, MB (floor: the same containerd started alone)", containerdRss, floorRss));
        nodeRows.Add(("idle RSS of the server process (control plane + agent), MB", serverRss, double.NaN));
        nodeRows.Add(("idle RSS of server + its containerd, MB (peer: k3s server, published, lower end)", serverRss + containerdRss, 1400));
        var watch = await PodWatch.StartAsync(node, "default", cancellationToken);
        await using (watch)
        {
            var sequence = 0;
            async Task<double[]> StartPodsAsync(int count)
            {
                var latencies = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => Task.Run(async () =>
                {
                    var name = "pod-" + Interlocked.Increment(ref sequence).ToString(CultureInfo.InvariantCulture);
                    var running = watch.RunningAsync(name);
                    var started = Stopwatch.GetTimestamp();
                    await node.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", PodJson(name, Image), cancellationToken);
                    var seen = await running.WaitAsync(TimeSpan.FromMinutes(3), cancellationToken);
                    return Stopwatch.GetElapsedTime(started, seen).TotalMilliseconds;
                }, cancellationToken)));
                await Task.WhenAll(Enumerable.Range(sequence - count + 1, count).Select(n =>
                    node.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/pods/pod-{n}?gracePeriodSeconds=0", null, cancellationToken)));
                await node.WaitEmptyAsync(cancellationToken);
                return latencies;
            }

            await StartPodsAsync(1);
            for (var run = 0; run < singleRuns; run++)
            {
                ourSingle.AddRange(await StartPodsAsync(1));
            }

            for (var round = 0; round < burstRounds; round++)
            {
                ourBurst.AddRange(await StartPodsAsync(Burst));
            }
        }

        Console.Error.WriteLine($"kubesharp: 1 pod p50 {BenchmarkReport.Percentile(ourSingle, 0.5):F0} ms; {Burst} pods p50 {BenchmarkReport.Percentile(ourBurst, 0.5):F0} ms p99 {BenchmarkReport.Percentile(ourBurst, 0.99):F0} ms");
        volumeRows = await VolumeBench.MeasureAsync(node, Image, volumeRuns, cancellationToken);
        if (!skipSwarm)
        {
            for (var round = 0; round < rounds; round++)
            {
                foreach (var replicas in new[] { 20, 50 })
                {
                    var name = "replicas-" + replicas.ToString(CultureInfo.InvariantCulture);
                    var seconds = await DeploymentAsync(node, name, replicas, Image, cancellationToken);
                    Add(deployments, name, seconds);
                    await node.SendAsync(HttpMethod.Delete, $"/apis/apps/v1/namespaces/default/deployments/{name}?propagationPolicy=Background", null, cancellationToken);
                    await node.WaitEmptyAsync(cancellationToken);
                    Console.Error.WriteLine($"kubesharp: {replicas} replicas in {seconds:F2} s");
                }

                await DeploymentAsync(node, "rolling", 20, Image, cancellationToken);
                var started = Stopwatch.GetTimestamp();
                await node.SendAsync(
                    HttpMethod.Patch,
                    "/apis/apps/v1/namespaces/default/deployments/rolling",
                    $$$$$"""{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"{{{{{UpdatedImage}}}}}","imagePullPolicy":"Never"}]}}}}""",
                    cancellationToken,
                    "application/merge-patch+json");
                await WaitDeploymentAsync(node, "rolling", 20, cancellationToken);
                var rolled = Stopwatch.GetElapsedTime(started).TotalSeconds;
                Add(deployments, "rolling", rolled);
                Console.Error.WriteLine($"kubesharp: rolling update of 20 in {rolled:F2} s");
                await node.SendAsync(HttpMethod.Delete, "/apis/apps/v1/namespaces/default/deployments/rolling?propagationPolicy=Background", null, cancellationToken);
                await node.WaitEmptyAsync(cancellationToken);
            }
        }
    }

    startup.Add(("1 pod at a time: p50 ms", BenchmarkReport.Percentile(ourSingle, 0.5), BenchmarkReport.Percentile(floorSingle, 0.5)));
    startup.Add(("1 pod at a time: p99 ms", BenchmarkReport.Percentile(ourSingle, 0.99), BenchmarkReport.Percentile(floorSingle, 0.99)));
    startup.Add(($"{Burst} pods at once: p50 ms", BenchmarkReport.Percentile(ourBurst, 0.5), BenchmarkReport.Percentile(floorBurst, 0.5)));
    startup.Add(($"{Burst} pods at once: p99 ms", BenchmarkReport.Percentile(ourBurst, 0.99), BenchmarkReport.Percentile(floorBurst, 0.99)));

    if (!skipSwarm)
    {
        swarmUnavailable = DockerSwarm.Unavailable();
        if (swarmUnavailable is null)
        {
            try
            {
                var swarm = await DockerSwarm.StartAsync(Path.Combine(root, "docker"), dockerArchive, cancellationToken);
                await using (swarm)
                {
                    swarmVersion = swarm.Version;
                    var seconds = new Dictionary<string, List<double>>(StringComparer.Ordinal);
                    for (var round = 0; round < rounds; round++)
                    {
                        foreach (var replicas in new[] { 20, 50 })
                        {
                            var name = "replicas-" + replicas.ToString(CultureInfo.InvariantCulture);
                            var created = await swarm.CreateServiceAsync(name, replicas, Image, cancellationToken);
                            Add(seconds, name, created);
                            Console.Error.WriteLine($"swarm: {replicas} replicas in {created:F2} s");
                            await swarm.RemoveServiceAsync(name, cancellationToken);
                        }

                        await swarm.CreateServiceAsync("rolling", 20, Image, cancellationToken);
                        var updated = await swarm.UpdateImageAsync("rolling", UpdatedImage, cancellationToken);
                        Add(seconds, "rolling", updated);
                        Console.Error.WriteLine($"swarm: rolling update of 20 in {updated:F2} s");
                        await swarm.RemoveServiceAsync("rolling", cancellationToken);
                    }

                    AddPeerRows(peers, deployments, seconds, rounds);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                swarmUnavailable = e.Message;
            }
        }

        if (swarmUnavailable is not null)
        {
            Console.Error.WriteLine($"Docker Swarm not measured: {swarmUnavailable}");
            AddPeerRows(peers, deployments, null, rounds);
        }
    }
}
finally
{
    try
    {
        Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
    }
}

var section = new StringBuilder();
section.AppendLine("## Node start and idle memory");
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Pods`{(quick ? " (--quick)" : string.Empty)}, as root. The real `kubesharp server` (control plane and agent in one process,");
section.AppendLine(CultureInfo.InvariantCulture, $"SQLite, its own containerd; {KubesharpExecutable.Description}) started {startRounds} times on a fresh data directory: seconds from the process start to /readyz and");
section.AppendLine("to the node reporting Ready (with the default ServiceAccount present). The floor for node Ready is a containerd of the same");
section.AppendLine(CultureInfo.InvariantCulture, $"configuration started until its CRI service answers and it holds the imported sandbox image. Idle RSS is read from /proc after the node has been Ready for {idleSeconds} s");
section.AppendLine("with the benchmark images imported and no pods, beside that same containerd started alone.");
section.AppendLine();
section.AppendLine("| measurement | Kubesharp | floor or peer | Kubesharp / floor or peer |");
section.AppendLine("|---|--:|--:|--:|");
foreach (var (measurement, ours, theirs) in nodeRows)
{
    section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(ours, "0.00")} | {BenchmarkReport.Format(theirs, "0.00")} | {BenchmarkReport.Ratio(ours, theirs)} |");
}

section.AppendLine("| k3s server idle RSS (published k3s resource profiling, not measured here) | – | 1,400–1,600 | – |");
section.AppendLine("| k3s agent idle RSS (published k3s resource profiling, not measured here) | – | 275 | – |");
section.AppendLine("| k0s controller idle RSS (published, not measured here) | – | 510 | – |");
section.AppendLine();
section.AppendLine("## Pod start-up");
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Pods`{(quick ? " (--quick)" : string.Empty)}, as root. The real `kubesharp server` process ({KubesharpExecutable.Description}) and its node (its own containerd 1.6,");
section.AppendLine("runc, CNI bridge) against the floor: a containerd of the same configuration (same conflist shape, its own bridge)");
section.AppendLine("receiving RunPodSandbox + CreateContainer + StartContainer directly at the same concurrency. Kubesharp's time runs");
section.AppendLine("from the pod's POST to the watch event that shows it Running; the floor's from RunPodSandbox to StartContainer's answer.");
section.AppendLine(CultureInfo.InvariantCulture, $"Image: busybox built locally from Debian's busybox-static and imported (imagePullPolicy Never). 1 pod: {singleRuns} runs, one at a time;");
section.AppendLine(CultureInfo.InvariantCulture, $"{Burst} pods created at once, {burstRounds} round(s). Targets: 1 pod p50 ≤ 300 ms; {Burst} pods within 1.3× the floor.");
section.AppendLine();
section.AppendLine("| measurement | Kubesharp | floor (CRI direct) | Kubesharp / floor |");
section.AppendLine("|---|--:|--:|--:|");
foreach (var (measurement, ours, theirs) in startup)
{
    section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(ours, "N0")} | {BenchmarkReport.Format(theirs, "N0")} | {BenchmarkReport.Ratio(ours, theirs)} |");
}

section.AppendLine("| Kubernetes pod start-up SLO, p99 (published SIG Scalability SLO, not measured here) | – | 5,000 | – |");
if (!skipSwarm)
{
    section.AppendLine();
    section.AppendLine("## Docker Swarm");
    section.AppendLine();
    section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Pods`{(quick ? " (--quick)" : string.Empty)}, as root. Docker {swarmVersion ?? "(not run)"} (Debian `docker.io`): a dockerd started by the");
    section.AppendLine("benchmark with its own data root, exec root and unix socket, a single-node swarm on 127.0.0.1, the same two locally");
    section.AppendLine("built busybox images loaded with `docker load`. Seconds from `docker service create --replicas N` until `N/N` run,");
    section.AppendLine("and from `docker service update --image` until swarm reports the update completed (swarm's defaults: one task at a");
    section.AppendLine(CultureInfo.InvariantCulture, $"time). Kubesharp: a Deployment on the real `kubesharp server` node ({KubesharpExecutable.Description}), seconds from the POST until readyReplicas = N,");
    section.AppendLine("and from a merge patch of the container image until all 20 replicas are updated and ready (Deployment defaults:");
    section.AppendLine("maxSurge 25 %, maxUnavailable 25 %). Both observed by polling every 100 ms.");
    if (swarmUnavailable is not null)
    {
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Docker Swarm was not measured in this run: {swarmUnavailable}");
    }

    section.AppendLine();
    section.AppendLine("| measurement | Kubesharp | Docker Swarm | Kubesharp / Swarm |");
    section.AppendLine("|---|--:|--:|--:|");
    foreach (var (measurement, ours, theirs) in peers)
    {
        section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(ours, "0.00")} | {BenchmarkReport.Format(theirs, "0.00")} | {BenchmarkReport.Ratio(ours, theirs)} |");
    }
}

section.AppendLine();
section.Append(VolumeBench.Section(volumeRows, volumeRuns, quick));
var text = section.ToString();
Console.WriteLine(text);
if (markdownPath is not null)
{
    foreach (var part in text.Split("\n## ", StringSplitOptions.RemoveEmptyEntries))
    {
        var body = part.StartsWith("## ", StringComparison.Ordinal) ? part : "## " + part;
        await BenchmarkReport.WriteSectionAsync(markdownPath, body[..body.IndexOf('\n', StringComparison.Ordinal)], body);
    }
}

return 0;

static void Add(Dictionary<string, List<double>> samples, string name, double value)
{
    if (!samples.TryGetValue(name, out var list))
    {
        samples[name] = list = [];
    }

    list.Add(value);
}

// One row per workload (median); with repeated runs, a second row with the worst run.
static void AddPeerRows(List<(string, double, double)> peers, Dictionary<string, List<double>> ours, Dictionary<string, List<double>>? swarm, int rounds)
{
    foreach (var (name, label) in new[]
    {
        ("replicas-20", "20 replicas: seconds from create to all running"),
        ("replicas-50", "50 replicas: seconds from create to all running"),
        ("rolling", "rolling image update of 20 replicas: seconds to complete"),
    })
    {
        var theirs = swarm is null ? [] : swarm[name];
        peers.Add((rounds > 1 ? label + ", median" : label, BenchmarkReport.Percentile(ours[name], 0.5), BenchmarkReport.Percentile(theirs, 0.5)));
        if (rounds > 1)
        {
            peers.Add((label + ", worst", BenchmarkReport.Percentile(ours[name], 0.99), BenchmarkReport.Percentile(theirs, 0.99)));
        }
    }
}

static string PodJson(string name, string image) =>
    $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}","labels":{"app":"bench-pods"}},"spec":{"terminationGracePeriodSeconds":0,"automountServiceAccountToken":false,"containers":[{"name":"c","image":"{{{image}}}","imagePullPolicy":"Never"}]}}""";

static async Task<double> DeploymentAsync(KubesharpNode node, string name, int replicas, string image, CancellationToken cancellationToken)
{
    var started = Stopwatch.GetTimestamp();
    await node.SendAsync(
        HttpMethod.Post,
        "/apis/apps/v1/namespaces/default/deployments",
        $$$$$"""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"{{{{{name}}}}}"},"spec":{"replicas":{{{{{replicas}}}}},"selector":{"matchLabels":{"app":"{{{{{name}}}}}"}},"template":{"metadata":{"labels":{"app":"{{{{{name}}}}}"}},"spec":{"terminationGracePeriodSeconds":1,"automountServiceAccountToken":false,"containers":[{"name":"c","image":"{{{{{image}}}}}","imagePullPolicy":"Never"}]}}}}""",
        cancellationToken);
    await WaitDeploymentAsync(node, name, replicas, cancellationToken);
    return Stopwatch.GetElapsedTime(started).TotalSeconds;
}

static async Task WaitRunningAsync(KubesharpNode node, int count, CancellationToken cancellationToken)
{
    var clock = Stopwatch.StartNew();
    while (true)
    {
        var pods = await node.GetJsonAsync("/api/v1/namespaces/default/pods?labelSelector=app%3Dbench-pods", cancellationToken);
        if (pods?["items"]?.AsArray().Count(p => (string?)p?["status"]?["phase"] == "Running") == count)
        {
            return;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"{count} pods did not run within 5 minutes");
        }

        await Task.Delay(100, cancellationToken);
    }
}

static async Task WaitDeploymentAsync(KubesharpNode node, string name, int replicas, CancellationToken cancellationToken)
{
    var clock = Stopwatch.StartNew();
    while (true)
    {
        var deployment = await node.GetJsonAsync($"/apis/apps/v1/namespaces/default/deployments/{name}", cancellationToken);
        var status = deployment?["status"];
        if ((long?)status?["observedGeneration"] >= (long?)deployment?["metadata"]?["generation"]
            && (int?)status?["replicas"] == replicas && (int?)status?["updatedReplicas"] == replicas
            && (int?)status?["readyReplicas"] == replicas && (int?)status?["availableReplicas"] == replicas)
        {
            return;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"deployment {name} did not reach {replicas} ready replicas within 5 minutes: {status?.ToJsonString()}");
        }

        await Task.Delay(100, cancellationToken);
    }
}
