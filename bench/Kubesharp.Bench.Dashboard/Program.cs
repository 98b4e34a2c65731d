using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Bench.Common;
using Kubesharp.E2ETests.Dashboard;

// Dashboard benchmark: milliseconds from navigation to the first complete render of the overview (nodes, pods by
// phase and warnings listed and drawn) in headless Chromium, against the real `kubesharp server` with simulated
// nodes, empty and then running 1,000 pods. Each run is a fresh page load in the same browser.
// Usage: Kubesharp.Bench.Dashboard [--quick] [--pods N] [--write BENCHMARKS.md]
var quick = args.Contains("--quick");
var podsIndex = Array.IndexOf(args, "--pods");
var podCount = podsIndex >= 0 ? int.Parse(args[podsIndex + 1], CultureInfo.InvariantCulture) : 1000;
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
var runs = quick ? 5 : 15;
const int Nodes = 20;

if (HeadlessChromium.Find() is null)
{
    Console.Error.WriteLine("Kubesharp.Bench.Dashboard needs chromium (Debian package chromium).");
    return 2;
}

var loads = new List<double> { Load() };
using var server = await SimulatedServer.StartAsync(Nodes);
using var http = AdminClient.Create(server.DataDir, multipleConnections: false, TimeSpan.FromMinutes(2));
var baseUrl = ServerUrl(server.Kubeconfig);
http.BaseAddress = new Uri(baseUrl);
await PostAsync("/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}""");
await PostAsync("/api/v1/namespaces/bench/serviceaccounts", """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"viewer"}}""");
await PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"bench-viewer"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"ServiceAccount","name":"viewer","namespace":"bench"}]}""");
var token = (string)(await PostAsync("/api/v1/namespaces/bench/serviceaccounts/viewer/token", """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}"""))["status"]!["token"]!;

await using var browser = await HeadlessChromium.StartAsync();
await browser.NavigateAsync(baseUrl + "/dashboard/");
await browser.EvaluateAsync($"sessionStorage.setItem('kubesharp.dashboard.token', {System.Text.Json.JsonSerializer.Serialize(token)})");

var empty = await MeasureAsync(0);
Console.WriteLine($"empty cluster: median {BenchmarkReport.Percentile(empty, 0.5):F0} ms");

// The pods: one Deployment, placed by the scheduler and run by the simulated nodes.
var started = Stopwatch.StartNew();
await PostAsync("/apis/apps/v1/namespaces/bench/deployments", ("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":" + podCount + ",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"tolerations\":[{\"key\":\"kubesharp.io/simulated\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}],\"containers\":[{\"name\":\"web\",\"image\":\"nginx\",\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}}}]}}}}"));
for (var i = 0; ; i++)
{
    var list = await http.GetFromJsonAsync<JsonObject>("/api/v1/namespaces/bench/pods?fieldSelector=status.phase%3DRunning");
    var running = list!["items"]!.AsArray().Count;
    if (running >= podCount)
    {
        break;
    }

    if (started.Elapsed > TimeSpan.FromMinutes(10))
    {
        throw new TimeoutException($"only {running} of {podCount} pods ran within 10 minutes");
    }

    await Task.Delay(500);
}

var listBytes = (await http.GetByteArrayAsync("/api/v1/pods")).Length;
loads.Add(Load());
var full = await MeasureAsync(podCount);
loads.Add(Load());
Console.WriteLine($"{podCount} pods: median {BenchmarkReport.Percentile(full, 0.5):F0} ms, worst {full.Max():F0} ms");

if (markdownPath is not null)
{
    var section = new StringBuilder()
        .AppendLine("## Dashboard")
        .AppendLine()
        .AppendLine(CultureInfo.InvariantCulture, $"`Kubesharp.Bench.Dashboard{(quick ? " --quick" : string.Empty)}` starts `kubesharp server --disable-agent --simulated-nodes {Nodes}` ({KubesharpExecutable.Description}) and loads")
        .AppendLine("`/dashboard/#/overview` in headless Chromium (Debian `chromium`) signed in with a service-account token; each figure is")
        .AppendLine("the time from navigation start to the first complete render of the overview (nodes table, pods by phase and recent")
        .AppendLine("warnings, each listed through the API and then watched), over fresh page loads in one browser.")
        .AppendLine()
        .AppendLine("| cluster | runs | median ms | p90 ms | worst ms |")
        .AppendLine("|---|---:|---:|---:|---:|")
        .AppendLine(CultureInfo.InvariantCulture, $"| {Nodes} nodes, no pods | {empty.Count} | {BenchmarkReport.Percentile(empty, 0.5):F0} | {BenchmarkReport.Percentile(empty, 0.9):F0} | {empty.Max():F0} |")
        .AppendLine(CultureInfo.InvariantCulture, $"| {Nodes} nodes, {podCount:N0} running pods | {full.Count} | {BenchmarkReport.Percentile(full, 0.5):F0} | {BenchmarkReport.Percentile(full, 0.9):F0} | {full.Max():F0} |")
        .AppendLine()
        .AppendLine(CultureInfo.InvariantCulture, $"The pod list of {podCount:N0} pods is {listBytes / 1024.0 / 1024.0:F1} MiB of JSON. Load average (1 min) around the runs: {loads.Min():F1}–{loads.Max():F1}")
        .AppendLine(CultureInfo.InvariantCulture, $"on {Environment.ProcessorCount} cores (the machine is shared; a high load inflates every figure).");
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Dashboard", section.ToString());
}

return 0;

async Task<List<double>> MeasureAsync(int expectedPods)
{
    var times = new List<double>();
    for (var run = 0; run < runs + 1; run++)
    {
        await browser.NavigateAsync($"{baseUrl}/dashboard/?run={run}#/overview");
        await browser.WaitForAsync($"window.dashboardFirstRender !== undefined && Number(document.querySelector('#pod-total')?.textContent) >= {expectedPods} && document.querySelectorAll('#node-table tbody tr').length === {Nodes}", TimeSpan.FromMinutes(2));
        var ms = (double)(await browser.EvaluateAsync("window.dashboardFirstRender"))!;
        // The first load warms the server's and the browser's caches: not counted.
        if (run > 0)
        {
            times.Add(ms);
        }
    }

    return times;
}

async Task<JsonNode> PostAsync(string path, string body)
{
    using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
    }

    return JsonNode.Parse(text)!;
}

static double Load() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

static string ServerUrl(string kubeconfig) =>
    File.ReadAllLines(kubeconfig).Select(l => l.Trim()).First(l => l.StartsWith("server:", StringComparison.Ordinal))["server:".Length..].Trim();
