using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.Bench.Api;
using Kubesharp.Bench.Common;

// API server benchmark: the real `kubesharp server --disable-agent` process on loopback (SQLite), against a
// floor measured in the same run (bare Kestrel with the same TLS, answering with captured bodies):
// seconds to /readyz, idle RSS, and GET / LIST (1,000 objects) / CREATE latency and throughput at 1 and 32
// concurrent clients over one HTTP/2 connection, as client-go uses, each load paired with the floor in alternating rounds.
// Then custom objects against ConfigMaps on the same server, and CustomResourceDefinition create → Established.
// Usage: Kubesharp.Bench.Api [--quick] [--write BENCHMARKS.md]
//        Kubesharp.Bench.Api --custom-resources [--quick] [--write BENCHMARKS.md]   (only the custom resource section)
//        Kubesharp.Bench.Api --admission [--quick] [--write BENCHMARKS.md]   (only the admission section)
//        Kubesharp.Bench.Api --rbac [--quick] [--write BENCHMARKS.md]   (only the RBAC section)
//        Kubesharp.Bench.Api --audit-encryption [--quick] [--write BENCHMARKS.md]   (audit log and encryption at rest)
//        Kubesharp.Bench.Api --history [--quick] [--write BENCHMARKS.md]   (object history on beside off)
//        Kubesharp.Bench.Api --list [--quick]   (LIST 1,000 ConfigMaps only, alternating rounds with the floor)
//        Kubesharp.Bench.Api --create [--pods] [--quick]   (CREATE ConfigMap, or pod, only, alternating rounds with the floor, CPU per request)
//        Kubesharp.Bench.Api --native PATH [--quick] [--write BENCHMARKS.md]   (native executable against the JIT build)
//        Kubesharp.Bench.Api --serve-floor TLS-DIR BODIES-DIR PORT   (internal: the floor process)
if (args.Length == 4 && args[0] == "--serve-floor")
{
    await FloorServer.RunAsync(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
    return 0;
}

var quick = args.Contains("--quick");
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
var startRuns = quick ? 2 : 5;
var duration = TimeSpan.FromSeconds(quick ? 2 : 8);
var settle = TimeSpan.FromSeconds(quick ? 3 : 10);
var root = Directory.CreateTempSubdirectory("kubesharp-bench-api-").FullName;
var rows = new List<(string Measurement, double Ours, double Floor, string Format)>();
const int RbacRounds = 16;
const int PairedRounds = 8;
string loadBefore = string.Empty, loadAfter = string.Empty;
var rbacRows = new List<(string Measurement, double User, double Admin, string Format)>();
var establishRuns = quick ? 5 : 20;
string? customSection = null;
var nativeIndex = Array.IndexOf(args, "--native");
if (nativeIndex >= 0)
{
    if (nativeIndex + 1 >= args.Length || !File.Exists(args[nativeIndex + 1]))
    {
        Console.Error.WriteLine("--native needs the path of a published kubesharp executable");
        return 2;
    }

    var nativeSection = await NativeBenchmark.RunAsync(root, Path.GetFullPath(args[nativeIndex + 1]), startRuns, settle, quick);
    Directory.Delete(root, recursive: true);
    Console.WriteLine(nativeSection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, "## Native build", nativeSection);
    }

    return 0;
}

if (args.Contains("--list"))
{
    // LIST alone, in alternating rounds against the floor: the quick loop for work on the list path.
    await MeasureListAsync(root, duration);
    Directory.Delete(root, recursive: true);
    return 0;
}

static async Task MeasureListAsync(string root, TimeSpan duration)
{
    using var only = await ServerProcess.StartKubesharpAsync(Path.Combine(root, "server"));
    using var onlyClient = ServerProcess.CreateClient(only.DataDir);
    await PrepareAsync(onlyClient, only.Url);
    var listBodies = Path.Combine(root, "bodies");
    Directory.CreateDirectory(listBodies);
    await File.WriteAllBytesAsync(Path.Combine(listBodies, "get.json"), await onlyClient.GetByteArrayAsync(new Uri(only.Url, "/api/v1/namespaces/bench/configmaps/get-me")));
    await File.WriteAllBytesAsync(Path.Combine(listBodies, "list.json"), await onlyClient.GetByteArrayAsync(new Uri(only.Url, "/api/v1/namespaces/bench-list/configmaps")));
    using var listFloor = await ServerProcess.StartFloorAsync(Path.Combine(only.DataDir, "server", "tls"), listBodies);
    using var listFloorClient = ServerProcess.CreateClient(only.DataDir);
    Console.Error.WriteLine($"kubesharp pid {only.Pid}, RSS {only.RssKilobytes() / 1024.0:F1} MB after 1,000 ConfigMaps");
    foreach (var clients in new[] { 1, 32 })
    {
        var (ours, theirs) = await Load.ComparePairedAsync(
            clients,
            duration * 2,
            (onlyClient, (c, _) => c.GetAsync(new Uri(only.Url, "/api/v1/namespaces/bench-list/configmaps"))),
            (listFloorClient, (c, _) => c.GetAsync(new Uri(listFloor.Url, "/api/v1/namespaces/bench-list/configmaps"))),
            rounds: 8);
        Console.WriteLine($"LIST 1,000 ConfigMaps, {clients} client(s): {ours.Rate:F0}/s against the floor's {theirs.Rate:F0}/s = {ours.Rate / theirs.Rate:F2}; p50 {BenchmarkReport.Percentile(ours.Latencies, 0.5):F2} / {BenchmarkReport.Percentile(theirs.Latencies, 0.5):F2} ms, p99 {BenchmarkReport.Percentile(ours.Latencies, 0.99):F2} / {BenchmarkReport.Percentile(theirs.Latencies, 0.99):F2} ms");
    }

    Console.Error.WriteLine($"kubesharp RSS {only.RssKilobytes() / 1024.0:F1} MB after the lists");
}

if (args.Contains("--create"))
{
    // CREATE alone, in alternating rounds against the floor, with CPU time per request: the quick loop for the write path.
    await CreateBenchmark.RunAsync(root, duration, args.Contains("--pods"));
    Directory.Delete(root, recursive: true);
    return 0;
}

if (args.Contains("--audit-encryption"))
{
    var auditSection = await AuditEncryptionBenchmark.RunAsync(root, duration, quick);
    Console.WriteLine(auditSection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, AuditEncryptionBenchmark.Heading, auditSection);
    }

    Directory.Delete(root, recursive: true);
    return 0;
}

if (args.Contains("--history"))
{
    var historySection = await HistoryBenchmark.RunAsync(root, duration, quick);
    Console.WriteLine(historySection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, HistoryBenchmark.Heading, historySection);
    }

    Directory.Delete(root, recursive: true);
    return 0;
}

if (args.Contains("--custom-resources"))
{
    var only = await ServerProcess.StartKubesharpAsync(Path.Combine(root, "server"));
    using (var onlyClient = ServerProcess.CreateClient(only.DataDir))
    {
        customSection = await CustomResourceBenchmark.RunAsync(onlyClient, only.Url, duration, establishRuns, quick);
    }

    Console.WriteLine(customSection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, CustomResourceBenchmark.Heading, customSection);
    }

    only.Dispose();
    Directory.Delete(root, recursive: true);
    return 0;
}

if (args.Contains("--admission"))
{
    var only = await ServerProcess.StartKubesharpAsync(Path.Combine(root, "server"));
    string admissionSection;
    using (var onlyClient = ServerProcess.CreateClient(only.DataDir))
    {
        admissionSection = await AdmissionBenchmark.RunAsync(onlyClient, only.Url, duration, quick);
    }

    Console.WriteLine(admissionSection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, AdmissionBenchmark.Heading, admissionSection);
    }

    only.Dispose();
    Directory.Delete(root, recursive: true);
    return 0;
}

if (args.Contains("--rbac"))
{
    var only = await ServerProcess.StartKubesharpAsync(Path.Combine(root, "server"));
    using (var onlyClient = ServerProcess.CreateClient(only.DataDir))
    {
        await PrepareAsync(onlyClient, only.Url);
        await MeasureRbacAsync(onlyClient, only.DataDir, only.Url, duration, rbacRows);
    }

    only.Dispose();
    Directory.Delete(root, recursive: true);
    await WriteRbacSectionAsync(rbacRows, quick, duration, markdownPath);
    return 0;
}

try
{
    // Start-up: a fresh data directory each time (certificates and the database are created), as on first use.
    var readySeconds = new List<double>();
    var floorReadySeconds = new List<double>();
    ServerProcess? server = null;
    for (var run = 0; run < startRuns; run++)
    {
        server?.Dispose();
        server = await ServerProcess.StartKubesharpAsync(Path.Combine(root, "server-" + run.ToString(CultureInfo.InvariantCulture)));
        readySeconds.Add(server.ReadySeconds);
        Console.Error.WriteLine($"kubesharp ready in {server.ReadySeconds:F2} s");
    }

    await Task.Delay(settle);
    var idleRss = server!.RssKilobytes();
    using var client = ServerProcess.CreateClient(server.DataDir);
    var baseUrl = server.Url;

    await PrepareAsync(client, baseUrl);
    var bodies = Path.Combine(root, "bodies");
    Directory.CreateDirectory(bodies);
    await File.WriteAllBytesAsync(Path.Combine(bodies, "get.json"), await client.GetByteArrayAsync(new Uri(baseUrl, "/api/v1/namespaces/bench/configmaps/get-me")));
    await File.WriteAllBytesAsync(Path.Combine(bodies, "list.json"), await client.GetByteArrayAsync(new Uri(baseUrl, "/api/v1/namespaces/bench-list/configmaps")));

    ServerProcess? floor = null;
    for (var run = 0; run < startRuns; run++)
    {
        floor?.Dispose();
        floor = await ServerProcess.StartFloorAsync(Path.Combine(server.DataDir, "server", "tls"), bodies);
        floorReadySeconds.Add(floor.ReadySeconds);
    }

    await Task.Delay(settle);
    var floorRss = floor!.RssKilobytes();
    rows.Add(("seconds from start to /readyz, median", BenchmarkReport.Percentile(readySeconds, 0.5), BenchmarkReport.Percentile(floorReadySeconds, 0.5), "0.00"));
    rows.Add(("seconds from start to /readyz, worst", readySeconds.Max(), floorReadySeconds.Max(), "0.00"));
    rows.Add(("idle RSS, MB", idleRss / 1024.0, floorRss / 1024.0, "0.0"));
    using var floorClient = ServerProcess.CreateClient(server.DataDir);
    loadBefore = BenchmarkReport.LoadAverage();

    foreach (var clients in new[] { 1, 32 })
    {
        await MeasureAsync($"GET one ConfigMap, {clients} client(s)", clients, (c, _) => c.GetAsync(new Uri(baseUrl, "/api/v1/namespaces/bench/configmaps/get-me")), (c, _) => c.GetAsync(new Uri(floor.Url, "/api/v1/namespaces/bench/configmaps/get-me")));
        await MeasureAsync($"LIST 1,000 ConfigMaps, {clients} client(s)", clients, (c, _) => c.GetAsync(new Uri(baseUrl, "/api/v1/namespaces/bench-list/configmaps")), (c, _) => c.GetAsync(new Uri(floor.Url, "/api/v1/namespaces/bench-list/configmaps")));
        await MeasureAsync($"CREATE ConfigMap, {clients} client(s)", clients, (c, n) => c.PostAsync(new Uri(baseUrl, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"c{clients}-{n}")), (c, n) => c.PostAsync(new Uri(floor.Url, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"c{clients}-{n}")));
    }

    // Paired and warmed up: an unmeasured warm-up of each, then alternating short rounds of Kubesharp and the floor,
    // pooled, so that neither gains from a warmer JIT or loses more to a neighbour's burst on the shared machine.
    async Task MeasureAsync(string name, int clients, Func<HttpClient, long, Task<HttpResponseMessage>> ours, Func<HttpClient, long, Task<HttpResponseMessage>> theirs)
    {
        var ((oursLatencies, oursRate), (floorLatencies, floorRate)) = await Load.ComparePairedAsync(clients, duration, (client, ours), (floorClient, theirs), PairedRounds);
        rows.Add(($"{name}: p50 ms", BenchmarkReport.Percentile(oursLatencies, 0.5), BenchmarkReport.Percentile(floorLatencies, 0.5), "0.00"));
        rows.Add(($"{name}: p99 ms", BenchmarkReport.Percentile(oursLatencies, 0.99), BenchmarkReport.Percentile(floorLatencies, 0.99), "0.00"));
        rows.Add(($"{name}: requests/s", oursRate, floorRate, "N0"));
        Console.Error.WriteLine($"{name}: p50 {BenchmarkReport.Percentile(oursLatencies, 0.5):F2} ms p99 {BenchmarkReport.Percentile(oursLatencies, 0.99):F2} ms {oursRate:F0}/s (floor {floorRate:F0}/s)");
    }

    loadAfter = BenchmarkReport.LoadAverage();
    floor.Dispose();

    await MeasureRbacAsync(client, server.DataDir, baseUrl, duration, rbacRows);
    customSection = await CustomResourceBenchmark.RunAsync(client, baseUrl, duration, establishRuns, quick);
    server.Dispose();
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
section.AppendLine("## API server");
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api`{(quick ? " (--quick)" : string.Empty)}. The real `kubesharp server --disable-agent` process (SQLite; {KubesharpExecutable.Description}) against");
section.AppendLine("the floor: bare Kestrel in its own process with the same certificate and TLS settings, answering GET and LIST with");
section.AppendLine("bodies captured from the server and echoing CREATE bodies. One HTTP/2 connection per client set, as client-go uses.");
section.AppendLine(CultureInfo.InvariantCulture, $"Each load is paired: after an unmeasured {duration.TotalSeconds / 2:0.#} s of it by each, Kubesharp and the floor run {PairedRounds} rounds of {duration.TotalSeconds / 4:0.#} s each,");
section.AppendLine("alternating which goes first, and each side's rounds are pooled (so that neither gains from a warmer JIT or a later start, and a");
section.AppendLine(CultureInfo.InvariantCulture, $"neighbour's burst on the shared machine falls on both alike). Start-up is measured {startRuns} times on a fresh data directory (certificates and");
section.AppendLine(CultureInfo.InvariantCulture, $"database created). Load average (1/5/15 min) {loadBefore} before the loads, {loadAfter} after, on {Environment.ProcessorCount} cores.");
section.AppendLine("Targets: CREATE at 32 clients ≥ 0.6 × the floor's requests/s with p99 ≤ 5 ms, LIST of 1,000 ≥ 0.8 × the floor, and for the native");
section.AppendLine("executable idle RSS ≤ 45 MB and start to /readyz ≤ 0.15 s.");
section.AppendLine();
section.AppendLine("| measurement | Kubesharp | floor | Kubesharp / floor |");
section.AppendLine("|---|--:|--:|--:|");
foreach (var (measurement, ours, floor, format) in rows)
{
    section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(ours, format)} | {BenchmarkReport.Format(floor, format)} | {BenchmarkReport.Ratio(ours, floor)} |");
}

section.AppendLine("| k3s server RSS (published k3s resource profiling, not measured here) | – | 1,400–1,600 MB | – |");
Console.WriteLine(section);
if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## API server", section.ToString());
}

await WriteRbacSectionAsync(rbacRows, quick, duration, markdownPath);

if (customSection is not null)
{
    Console.WriteLine(customSection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, CustomResourceBenchmark.Heading, customSection);
    }
}

return 0;

// RBAC: an ordinary user bound through one RoleBinding among 1,000 against the admin (superuser short-cut),
// the same requests one after the other in one run.
static async Task MeasureRbacAsync(HttpClient client, string dataDir, Uri baseUrl, TimeSpan duration, List<(string Measurement, double User, double Admin, string Format)> rbacRows)
{
    await PrepareBindingsAsync(client, baseUrl);
    using var userClient = AdminClient.CreateForUser(dataDir, "bench-user-500", multipleConnections: false, TimeSpan.FromSeconds(60));
    foreach (var (name, send) in new (string, Func<HttpClient, long, Task<HttpResponseMessage>>)[]
    {
        ("GET one ConfigMap, 32 clients", (c, _) => c.GetAsync(new Uri(baseUrl, "/api/v1/namespaces/bench/configmaps/get-me"))),
        ("CREATE ConfigMap, 32 clients", (c, n) => c.PostAsync(new Uri(baseUrl, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"rbac-{(ReferenceEquals(c, userClient) ? "user" : "admin")}-{n}"))),
    })
    {
        var rounds = new List<(List<double> User, List<double> Admin)>();
        var ((userLatencies, userRate), (adminLatencies, adminRate)) = await Load.ComparePairedAsync(32, duration, (userClient, send), (client, send), RbacRounds, rounds);
        rbacRows.Add(($"{name}: p50 ms", BenchmarkReport.Percentile(userLatencies, 0.5), BenchmarkReport.Percentile(adminLatencies, 0.5), "0.00"));
        rbacRows.Add(($"{name}: p99 ms", BenchmarkReport.Percentile(userLatencies, 0.99), BenchmarkReport.Percentile(adminLatencies, 0.99), "0.00"));
        rbacRows.Add(($"{name}: requests/s", userRate, adminRate, "N0"));
        // One burst of a neighbour moves a pooled p99 a long way; the median of the rounds' own p99s does not.
        rbacRows.Add(($"{name}: p99 ms, median of the {RbacRounds} rounds", Median(rounds.Select(r => BenchmarkReport.Percentile(r.User, 0.99))), Median(rounds.Select(r => BenchmarkReport.Percentile(r.Admin, 0.99))), "0.00"));
        Console.Error.WriteLine($"RBAC {name}: user p99 {BenchmarkReport.Percentile(userLatencies, 0.99):F2} ms, admin p99 {BenchmarkReport.Percentile(adminLatencies, 0.99):F2} ms");
    }
}

static async Task WriteRbacSectionAsync(List<(string Measurement, double User, double Admin, string Format)> rbacRows, bool quick, TimeSpan duration, string? markdownPath)
{
    var rbacSection = new StringBuilder();
    rbacSection.AppendLine("## API server with RBAC");
    rbacSection.AppendLine();
    rbacSection.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api`{(quick ? " (--quick)" : string.Empty)}, same server process ({KubesharpExecutable.Description}). An ordinary user (client certificate, no groups)");
    rbacSection.AppendLine("allowed through one RoleBinding among 1,000 in its namespace, against the admin (system:masters short-cut), both");
    rbacSection.AppendLine("exempt from flow control (the admin as system:masters, the user through a FlowSchema), so the ratio is the cost of authorization, in the");
    rbacSection.AppendLine(CultureInfo.InvariantCulture, $"same run over one HTTP/2 connection each; after an unmeasured {duration.TotalSeconds / 2:0.#} s of the same load by each, each identity runs {RbacRounds} rounds of {duration.TotalSeconds / 4:0.#} s, alternating which goes first (many short rounds, so that the shared machine's bursts fall on both alike). Target: user p99 ≤ 1.1 × admin p99.");
    rbacSection.AppendLine("The pooled p99 of a few thousand CREATEs is at the mercy of one fsync stall on the shared disk, so each identity's p99 is also taken per round and the median of those is shown.");
    rbacSection.AppendLine();
    rbacSection.AppendLine("| measurement | user via RoleBinding | admin | user / admin |");
    rbacSection.AppendLine("|---|--:|--:|--:|");
    foreach (var (measurement, user, admin, format) in rbacRows)
    {
        rbacSection.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(user, format)} | {BenchmarkReport.Format(admin, format)} | {BenchmarkReport.Ratio(user, admin)} |");
    }

    Console.WriteLine(rbacSection);
    if (markdownPath is not null)
    {
        await BenchmarkReport.WriteSectionAsync(markdownPath, "## API server with RBAC", rbacSection.ToString());
    }
}

static async Task PrepareBindingsAsync(HttpClient client, Uri baseUrl)
{
    using (var role = await client.PostAsync(new Uri(baseUrl, "/apis/rbac.authorization.k8s.io/v1/namespaces/bench/roles"),
        Json("""{"metadata":{"name":"configmaps"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","create"]}]}""")))
    {
        role.EnsureSuccessStatusCode();
    }

    // The admin (system:masters) is exempt from flow control; a FlowSchema exempts the measured user too, so that the
    // ratio is what authorization costs, not the seats and queues of the user's priority level.
    using (var exempt = await client.PostAsync(new Uri(baseUrl, "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas"),
        Json("""{"metadata":{"name":"bench-user-exempt"},"spec":{"matchingPrecedence":2,"priorityLevelConfiguration":{"name":"exempt"},"rules":[{"subjects":[{"kind":"User","user":{"name":"bench-user-500"}}],"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"namespaces":["*"]}]}]}}""")))
    {
        exempt.EnsureSuccessStatusCode();
    }

    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
    {
        int n;
        while ((n = Interlocked.Increment(ref next)) < 1000)
        {
            var user = "bench-user-" + n.ToString(CultureInfo.InvariantCulture);
            using var response = await client.PostAsync(new Uri(baseUrl, "/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings"), Json($$$"""
                {"metadata":{"name":"{{{user}}}"},"subjects":[{"kind":"User","name":"{{{user}}}","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"Role","name":"configmaps","apiGroup":"rbac.authorization.k8s.io"}}
                """));
            response.EnsureSuccessStatusCode();
        }
    })));
}

static async Task PrepareAsync(HttpClient client, Uri baseUrl)
{
    foreach (var ns in new[] { "bench", "bench-list" })
    {
        using var created = await client.PostAsync(new Uri(baseUrl, "/api/v1/namespaces"), Json($$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{ns}}}"}}"""));
        created.EnsureSuccessStatusCode();
    }

    using (var getMe = await client.PostAsync(new Uri(baseUrl, "/api/v1/namespaces/bench/configmaps"), ConfigMap("get-me")))
    {
        getMe.EnsureSuccessStatusCode();
    }

    var next = 0;
    await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
    {
        int n;
        while ((n = Interlocked.Increment(ref next)) <= 1000)
        {
            using var response = await client.PostAsync(new Uri(baseUrl, "/api/v1/namespaces/bench-list/configmaps"), ConfigMap("item-" + n.ToString(CultureInfo.InvariantCulture)));
            response.EnsureSuccessStatusCode();
        }
    })));
}

static StringContent ConfigMap(string name) =>
    Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","labels":{"app":"bench"}},"data":{"key":"{{{new string('v', 256)}}}"}}""");

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

namespace Kubesharp.Bench.Api
{
    /// <summary>A server process the benchmark started (Kubesharp or the floor), stopped by its PID on dispose.</summary>
    internal sealed class ServerProcess : IDisposable
    {
        private readonly Process process;

        private ServerProcess(Process process, Uri url, string dataDir, double readySeconds)
        {
            this.process = process;
            Url = url;
            DataDir = dataDir;
            ReadySeconds = readySeconds;
        }

        public Uri Url { get; }

        public string DataDir { get; }

        public double ReadySeconds { get; }

        /// <summary>Starts the kubesharp executable the benchmark measures (<see cref="KubesharpExecutable"/>) as `server --disable-agent`.</summary>
        public static Task<ServerProcess> StartKubesharpAsync(string dataDir, params string[] extraArguments) =>
            StartServerAsync(KubesharpExecutable.StartInfo, dataDir, extraArguments);

        /// <summary>Starts the JIT build beside the benchmark as `server --disable-agent`, whatever the executable measured elsewhere.</summary>
        public static Task<ServerProcess> StartJitAsync(string dataDir) => StartServerAsync(KubesharpExecutable.JitStartInfo, dataDir, []);

        /// <summary>Starts a given kubesharp executable (such as the native one) as `server --disable-agent`.</summary>
        public static Task<ServerProcess> StartExecutableAsync(string executable, string dataDir) =>
            StartServerAsync(arguments => new ProcessStartInfo(executable, arguments), dataDir, []);

        private static async Task<ServerProcess> StartServerAsync(Func<IEnumerable<string>, ProcessStartInfo> start, string dataDir, string[] extraArguments)
        {
            var port = FreePort();
            var info = start(new[] { "server", "--disable-agent", "--data-dir", dataDir, "--https-port", port.ToString(CultureInfo.InvariantCulture) }.Concat(extraArguments));
            return await StartAsync(info, new Uri($"https://127.0.0.1:{port}"), dataDir);
        }

        public static async Task<ServerProcess> StartFloorAsync(string tlsDirectory, string bodiesDirectory)
        {
            var port = FreePort();
            var info = new ProcessStartInfo(Environment.ProcessPath!);
            // Under `dotnet Kubesharp.Bench.Api.dll` the host needs the assembly; the apphost (whose name ends in ".Api",
            // which a file-extension check would strip) must not get it, or it would run the whole benchmark again.
            if (Path.GetFileName(Environment.ProcessPath!) is "dotnet" or "dotnet.exe")
            {
                info.ArgumentList.Add(typeof(ServerProcess).Assembly.Location);
            }

            foreach (var argument in new[] { "--serve-floor", tlsDirectory, bodiesDirectory, port.ToString(CultureInfo.InvariantCulture) })
            {
                info.ArgumentList.Add(argument);
            }

            return await StartAsync(info, new Uri($"https://127.0.0.1:{port}"), Path.GetDirectoryName(Path.GetDirectoryName(tlsDirectory))!);
        }

        private static async Task<ServerProcess> StartAsync(ProcessStartInfo info, Uri url, string dataDir)
        {
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.UseShellExecute = false;
            var clock = Stopwatch.StartNew();
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            // The CA is created by the server being started, so the loopback readiness probe cannot check it yet.
#pragma warning disable CA5359
            using var probe = new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            })
#pragma warning restore CA5359
            { Timeout = TimeSpan.FromSeconds(2) };
            while (clock.Elapsed < TimeSpan.FromSeconds(120) && !process.HasExited)
            {
                try
                {
                    using var response = await probe.GetAsync(new Uri(url, "/readyz"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return new ServerProcess(process, url, dataDir, clock.Elapsed.TotalSeconds);
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                await Task.Delay(10);
            }

            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{info.FileName} did not become ready at {url}");
        }

        public static HttpClient CreateClient(string dataDir) => AdminClient.Create(dataDir, multipleConnections: false, TimeSpan.FromSeconds(60));

        public int Pid => process.Id;

        public long RssKilobytes()
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }

            return 0;
        }

        /// <summary>User plus system CPU time the process spent so far (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
        public double CpuSeconds()
        {
            var stat = File.ReadAllText($"/proc/{process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
