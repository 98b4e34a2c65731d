using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Bench.Common;
using Kubesharp.Bench.Pods;
using Kubesharp.Bench.Services;
using Kubesharp.Kubelet.Images;

// Service benchmark, as root, on the real `kubesharp server` and its node (containerd, CNI bridge, iptables):
// 1. HTTP over a new connection per request from the host to one busybox httpd pod, addressed directly by its
//    pod IP and through a ClusterIP Service (iptables DNAT), in alternating rounds: connections/s with 4
//    concurrent clients, p50/p99 latency of one client at a time, and the ClusterIP/direct ratio;
// 2. endpoint change to rule in force: an EndpointSlice of a selector-less Service rewritten from one pod to the
//    other, timed from the write until a new connection to the ClusterIP reaches the new pod; and a pod of a
//    2-replica Deployment deleted, timed until new connections no longer reach it.
// Usage: Kubesharp.Bench.Services [--quick] [--write BENCHMARKS.md]
var quick = args.Contains("--quick");
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
var rounds = quick ? 2 : 5;
var roundTime = TimeSpan.FromSeconds(quick ? 2 : 5);
var flips = quick ? 10 : 30;
var deletions = quick ? 3 : 10;
const int Workers = 4;
const string Image = "docker.io/kubesharp/busybox:bench-web";
var cancellationToken = CancellationToken.None;

if (Environment.UserName != "root")
{
    Console.Error.WriteLine("Kubesharp.Bench.Services runs containers and programs iptables; it must run as root.");
    return 2;
}

var root = Directory.CreateTempSubdirectory("ksb-svc-").FullName;
var direct = (Rate: new List<double>(), Latency: new List<double>(), Failures: 0);
var cluster = (Rate: new List<double>(), Latency: new List<double>(), Failures: 0);
var flipMs = new List<double>();
var deleteMs = new List<double>();
try
{
    var web = await OciImageBuilder.BuildBusyboxAsync(Image, [], ["/bin/sh", "-c", "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"], cancellationToken: cancellationToken);
    var archive = Path.Combine(root, "web.oci.tar");
    await OciImageBuilder.WriteOciArchiveAsync(archive, [web], cancellationToken);

    var node = await KubesharpNode.StartAsync(Path.Combine(root, "kubesharp"), cancellationToken);
    await using (node)
    {
        await node.ImportAsync(archive, cancellationToken);
        foreach (var name in new[] { "web-a", "web-b" })
        {
            await node.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/pods", PodJson(name), cancellationToken);
        }

        await node.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/default/deployments", DeploymentJson(), cancellationToken);
        await node.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/services", ServiceJson("direct", "\"selector\":{\"name\":\"web-a\"},"), cancellationToken);
        await node.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/services", ServiceJson("flip", string.Empty), cancellationToken);
        await node.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/services", ServiceJson("scale", "\"selector\":{\"app\":\"scale\"},"), cancellationToken);

        var ips = await WaitAsync("4 ready pods", async () =>
        {
            var pods = await node.GetJsonAsync("/api/v1/namespaces/default/pods", cancellationToken);
            var ready = pods!["items"]!.AsArray()
                .Where(p => p!["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "Ready" && (string?)c["status"] == "True") == true)
                .ToDictionary(p => (string)p!["metadata"]!["name"]!, p => (string)p!["status"]!["podIP"]!, StringComparer.Ordinal);
            return ready.Count == 4 ? ready : null;
        });
        var (a, b) = (ips["web-a"], ips["web-b"]);
        await node.SendAsync(HttpMethod.Post, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", SliceJson(a, null), cancellationToken);
        var directIp = await ClusterIpAsync(node, "direct");
        var flipIp = await ClusterIpAsync(node, "flip");
        var scaleIp = await ClusterIpAsync(node, "scale");
        // No traffic to a cluster IP before its rules exist (it would follow the default route off the machine).
        await WaitAsync("the service rules", async () =>
        {
            var rules = await NatRulesAsync();
            return rules.Contains($"default/direct:http -> {a}:8080", StringComparison.Ordinal)
                && rules.Contains($"default/flip:http -> {a}:8080", StringComparison.Ordinal)
                && EndpointRules(rules, "default/scale:http") == 2 ? rules : null;
        });

        // 1. Direct versus ClusterIP, alternating so that drift on the shared machine hits both alike.
        var podTarget = new IPEndPoint(IPAddress.Parse(a), 8080);
        var serviceTarget = new IPEndPoint(IPAddress.Parse(directIp), 80);
        await HttpProbe.LoadAsync(podTarget, 1, TimeSpan.FromSeconds(1), cancellationToken);
        await HttpProbe.LoadAsync(serviceTarget, 1, TimeSpan.FromSeconds(1), cancellationToken);
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (target, into) in new[] { (podTarget, 0), (serviceTarget, 1) })
            {
                var load = await HttpProbe.LoadAsync(target, Workers, roundTime, cancellationToken);
                var single = await HttpProbe.LoadAsync(target, 1, roundTime, cancellationToken);
                if (into == 0)
                {
                    direct.Rate.Add(load.PerSecond);
                    direct.Latency.AddRange(single.LatenciesMs);
                    direct.Failures += load.Failures + single.Failures;
                }
                else
                {
                    cluster.Rate.Add(load.PerSecond);
                    cluster.Latency.AddRange(single.LatenciesMs);
                    cluster.Failures += load.Failures + single.Failures;
                }
            }
        }

        Console.Error.WriteLine($"direct {direct.Rate.Average():F0}/s p50 {BenchmarkReport.Percentile(direct.Latency, 0.5):F2} ms; cluster IP {cluster.Rate.Average():F0}/s p50 {BenchmarkReport.Percentile(cluster.Latency, 0.5):F2} ms");

        // 2a. The EndpointSlice of "flip" moves between the two pods; timed until a new connection reaches the new one.
        var flipTarget = new IPEndPoint(IPAddress.Parse(flipIp), 80);
        var (current, next) = ("web-a", "web-b");
        for (var i = 0; i < flips; i++)
        {
            var clock = Stopwatch.StartNew();
            await node.SendAsync(HttpMethod.Patch, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/flip-bench", SliceJson(ips[next], "patch"), cancellationToken, "application/merge-patch+json");
            while (await HttpProbe.GetAsync(flipTarget, TimeSpan.FromMilliseconds(500), cancellationToken) != next)
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"the flip Service did not reach {next} within 30 s");
                }
            }

            flipMs.Add(clock.Elapsed.TotalMilliseconds);
            (current, next) = (next, current);
            await Task.Delay(200, cancellationToken);
        }

        Console.Error.WriteLine($"slice write to rule in force: p50 {BenchmarkReport.Percentile(flipMs, 0.5):F0} ms");

        // 2b. A replica of "scale" is deleted; in force once 20 new connections in a row reach only the other.
        var scaleTarget = new IPEndPoint(IPAddress.Parse(scaleIp), 80);
        for (var i = 0; i < deletions; i++)
        {
            var pods = await WaitAsync("2 ready scale replicas in the rules", async () =>
            {
                var list = await node.GetJsonAsync("/api/v1/namespaces/default/pods?labelSelector=app%3Dscale", cancellationToken);
                var ready = list!["items"]!.AsArray()
                    .Where(p => p!["metadata"]?["deletionTimestamp"] is null && p!["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "Ready" && (string?)c["status"] == "True") == true)
                    .Select(p => (string)p!["metadata"]!["name"]!).ToList();
                return ready.Count == 2 && EndpointRules(await NatRulesAsync(), "default/scale:http") == 2 ? ready : null;
            });
            var victim = pods[0];
            var clock = Stopwatch.StartNew();
            await node.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/pods/{victim}", null, cancellationToken);
            var cleanSince = TimeSpan.Zero;
            var clean = 0;
            while (clean < 20)
            {
                var at = clock.Elapsed;
                var answer = await HttpProbe.GetAsync(scaleTarget, TimeSpan.FromMilliseconds(300), cancellationToken);
                if (answer is null || answer == victim)
                {
                    clean = 0;
                }
                else if (clean++ == 0)
                {
                    cleanSince = at;
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"{victim} still answered 60 s after its deletion");
                }
            }

            deleteMs.Add(cleanSince.TotalMilliseconds);
        }

        Console.Error.WriteLine($"pod deletion to rule in force: p50 {BenchmarkReport.Percentile(deleteMs, 0.5):F0} ms");
        foreach (var path in new[] { "/apis/apps/v1/namespaces/default/deployments/scale", "/api/v1/namespaces/default/pods/web-a", "/api/v1/namespaces/default/pods/web-b" })
        {
            await node.SendAsync(HttpMethod.Delete, path, null, cancellationToken);
        }

        await node.WaitEmptyAsync(cancellationToken);
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

var section = new StringBuilder();
section.AppendLine("## Service proxy");
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Services`{(quick ? " (--quick)" : string.Empty)}, as root, on the real `kubesharp server` process ({KubesharpExecutable.Description}) and its node (containerd, CNI bridge,");
section.AppendLine("the service proxy's iptables rules). Server: one busybox `httpd` pod answering its host name. The client is this program on the");
section.AppendLine(CultureInfo.InvariantCulture, $"host: a new TCP connection per HTTP/1.0 GET, read to the server's close. {rounds} alternating rounds of {roundTime.TotalSeconds:0} s per target and mode;");
section.AppendLine(CultureInfo.InvariantCulture, $"connections/s with {Workers} concurrent clients, latency with one client at a time. The floor is the same pod addressed by its pod IP.");
section.AppendLine();
section.AppendLine("| path | connections/s | p50 latency (ms) | p99 latency (ms) | failed |");
section.AppendLine("|---|---:|---:|---:|---:|");
section.AppendLine(CultureInfo.InvariantCulture, $"| pod IP (floor) | {BenchmarkReport.Format(direct.Rate.Average(), "0")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(direct.Latency, 0.5), "0.00")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(direct.Latency, 0.99), "0.00")} | {direct.Failures} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| ClusterIP (iptables DNAT) | {BenchmarkReport.Format(cluster.Rate.Average(), "0")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(cluster.Latency, 0.5), "0.00")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(cluster.Latency, 0.99), "0.00")} | {cluster.Failures} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| ratio ClusterIP / pod IP | {BenchmarkReport.Ratio(cluster.Rate.Average(), direct.Rate.Average())} | {BenchmarkReport.Ratio(BenchmarkReport.Percentile(cluster.Latency, 0.5), BenchmarkReport.Percentile(direct.Latency, 0.5))} | {BenchmarkReport.Ratio(BenchmarkReport.Percentile(cluster.Latency, 0.99), BenchmarkReport.Percentile(direct.Latency, 0.99))} | |");
section.AppendLine();
section.AppendLine("Endpoint change to rule in force, timed from the API request until new connections to the ClusterIP show it: an EndpointSlice of a");
section.AppendLine("selector-less Service rewritten to name the other pod (until a connection reaches it); a pod of a 2-replica Deployment deleted (until");
section.AppendLine("the first of 20 consecutive connections that all reach the other replica). The proxy coalesces changes for 100 ms before each sync.");
section.AppendLine();
section.AppendLine("| endpoint change | samples | median (ms) | p99 (ms) |");
section.AppendLine("|---|---:|---:|---:|");
section.AppendLine(CultureInfo.InvariantCulture, $"| EndpointSlice rewritten | {flipMs.Count} | {BenchmarkReport.Format(BenchmarkReport.Percentile(flipMs, 0.5), "0")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(flipMs, 0.99), "0")} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| pod deleted (Deployment, 2 replicas) | {deleteMs.Count} | {BenchmarkReport.Format(BenchmarkReport.Percentile(deleteMs, 0.5), "0")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(deleteMs, 0.99), "0")} |");
Console.WriteLine(section.ToString());
if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Service proxy", section.ToString());
}

return 0;

static string Container() =>
    "{\"name\":\"httpd\",\"image\":\"" + Image + "\",\"imagePullPolicy\":\"Never\",\"ports\":[{\"containerPort\":8080}]," +
    "\"readinessProbe\":{\"httpGet\":{\"port\":8080,\"path\":\"/\"},\"periodSeconds\":1}}";

static string PodJson(string name) =>
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\",\"labels\":{\"name\":\"" + name + "\"}}," +
    "\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":[" + Container() + "]}}";

static string DeploymentJson() =>
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"scale\"},\"spec\":{\"replicas\":2," +
    "\"selector\":{\"matchLabels\":{\"app\":\"scale\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"scale\"}}," +
    "\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":[" + Container() + "]}}}}";

static string ServiceJson(string name, string selector) =>
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{" + selector +
    "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\"}]}}";

static string SliceJson(string ip, string? patch) =>
    (patch is null
        ? "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"flip-bench\",\"labels\":{\"kubernetes.io/service-name\":\"flip\"}}," +
          "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],"
        : "{") +
    "\"endpoints\":[{\"addresses\":[\"" + ip + "\"],\"conditions\":{\"ready\":true}}]}";

static async Task<string> ClusterIpAsync(KubesharpNode node, string name) =>
    (string)(await node.GetJsonAsync($"/api/v1/namespaces/default/services/{name}", CancellationToken.None))!["spec"]!["clusterIP"]!;

static async Task<string> NatRulesAsync() => (await HostCommand.RunAsync("iptables-save", ["-t", "nat"])).Output;

static int EndpointRules(string rules, string key) => rules.Split('\n').Count(l => l.Contains(key + " -> ", StringComparison.Ordinal));

static async Task<T> WaitAsync<T>(string what, Func<Task<T?>> probe)
    where T : class
{
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromMinutes(3))
    {
        if (await probe() is { } value)
        {
            return value;
        }

        await Task.Delay(250);
    }

    throw new TimeoutException($"timed out waiting for {what}");
}
