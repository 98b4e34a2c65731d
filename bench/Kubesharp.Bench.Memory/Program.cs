using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kubesharp.Bench.Common;

// Memory under load: the real `kubesharp server --disable-agent` process (SQLite) on loopback. Idle RSS (the
// floor, with the objects loaded), peak RSS during waves of 200 concurrent LISTs of 2,000 ConfigMaps, RSS a
// minute after the burst, and the RSS cost of 1,000 open watches. With --gc-modes the burst is repeated under
// each garbage collector setting the server could ship with, to show why the shipped one was chosen.
// Usage: Kubesharp.Bench.Memory [--quick] [--gc-modes] [--write BENCHMARKS.md]
var quick = args.Contains("--quick");
var compareModes = args.Contains("--gc-modes");
var watchesOnly = args.Contains("--watches-only");
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
const int Objects = 2000;
const int Lists = 200;
const int Watches = 1000;
var waves = quick ? 1 : 3;
var afterBurst = TimeSpan.FromSeconds(60);
var settle = TimeSpan.FromSeconds(quick ? 5 : 10);

// The shipped setting first; the others only with --gc-modes. Each is given to the server through the runtime's
// environment switches, which override what the executable's runtimeconfig says.
var modes = new List<(string Name, Dictionary<string, string> Environment)>
{
    ("workstation, non-concurrent (shipped)", new()),
};
if (compareModes)
{
    modes.Add(("server GC", new() { ["DOTNET_gcServer"] = "1" }));
    modes.Add(("workstation, concurrent", new() { ["DOTNET_gcConcurrent"] = "1" }));
    modes.Add(("workstation, GCConserveMemory=7", new() { ["DOTNET_GCConserveMemory"] = "7" }));
}

var results = new List<Result>();
var root = Directory.CreateTempSubdirectory("kubesharp-bench-memory-").FullName;
try
{
    foreach (var (name, environment) in watchesOnly ? [] : modes)
    {
        results.Add(await MeasureAsync(name, environment, burst: true));
    }

    if (watchesOnly)
    {
        results.Add(new Result(modes[0].Name, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN));
    }

    // On a server of its own: after a burst its heap has room to spare, which would hide what watches cost.
    var watchRun = await MeasureAsync(modes[0].Name, modes[0].Environment, burst: false);
    results[0] = results[0] with { BeforeWatches = watchRun.BeforeWatches, WithWatches = watchRun.WithWatches, PerWatchKilobytes = watchRun.PerWatchKilobytes };
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

var shipped = results[0];
var section = new StringBuilder();
section.AppendLine("## Memory under load");
section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Memory`{(quick ? " (--quick)" : string.Empty)}{(compareModes ? " --gc-modes" : string.Empty)}. The real `kubesharp server --disable-agent` process (SQLite; {KubesharpExecutable.Description})");
section.AppendLine(CultureInfo.InvariantCulture, $"holding {Objects:N0} ConfigMaps of 1 KiB data. The floor is the same process idle with those objects loaded (RSS after {settle.TotalSeconds:0} s).");
section.AppendLine(CultureInfo.InvariantCulture, $"Burst: {waves} wave(s) of {Lists} concurrent LISTs of all {Objects:N0} objects (about {shipped.ListMegabytes:0.0} MB of JSON each) over HTTP/2; RSS sampled every 20 ms for the peak and");
section.AppendLine(CultureInfo.InvariantCulture, $"again {afterBurst.TotalSeconds:0} s after the last response. Watches: {Watches:N0} watches of the namespace's ConfigMaps from the current resourceVersion, all open");
section.AppendLine("at once; RSS before and after opening them, divided by their count. Targets: peak ≤ 300 MB, ≤ 1.2× idle a minute after, ≤ 50 kB per watch.");
section.AppendLine();
section.AppendLine("| measurement | Kubesharp | floor (idle RSS) | Kubesharp / floor |");
section.AppendLine("|---|--:|--:|--:|");
section.AppendLine(CultureInfo.InvariantCulture, $"| idle RSS before the objects, MB | {shipped.EmptyIdle:0.0} | {shipped.Idle:0.0} | {BenchmarkReport.Ratio(shipped.EmptyIdle, shipped.Idle)} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| peak RSS during the LIST burst, MB | {shipped.Peak:0.0} | {shipped.Idle:0.0} | {BenchmarkReport.Ratio(shipped.Peak, shipped.Idle)} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| RSS {afterBurst.TotalSeconds:0} s after the burst, MB | {shipped.After:0.0} | {shipped.Idle:0.0} | {BenchmarkReport.Ratio(shipped.After, shipped.Idle)} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| LIST burst: seconds for all {waves * Lists} lists | {shipped.BurstSeconds:0.00} | – | – |");
section.AppendLine(CultureInfo.InvariantCulture, $"| RSS with {Watches:N0} watches open, MB | {shipped.WithWatches:0.0} | {shipped.BeforeWatches:0.0} | {BenchmarkReport.Ratio(shipped.WithWatches, shipped.BeforeWatches)} |");
section.AppendLine(CultureInfo.InvariantCulture, $"| RSS per open watch, kB (target 50) | {shipped.PerWatchKilobytes:0.0} | 50.0 | {BenchmarkReport.Ratio(shipped.PerWatchKilobytes, 50)} |");
if (results.Count > 1)
{
    section.AppendLine();
    section.AppendLine("Garbage collector settings, the same burst under each (RSS in MB; ratios to each run's own idle RSS):");
    section.AppendLine();
    section.AppendLine("| setting | idle | peak | peak / idle | a minute after | after / idle |");
    section.AppendLine("|---|--:|--:|--:|--:|--:|");
    foreach (var r in results)
    {
        section.AppendLine(CultureInfo.InvariantCulture, $"| {r.Mode} | {r.Idle:0.0} | {r.Peak:0.0} | {BenchmarkReport.Ratio(r.Peak, r.Idle)} | {r.After:0.0} | {BenchmarkReport.Ratio(r.After, r.Idle)} |");
    }
}

Console.WriteLine(section);
if (markdownPath is not null && !watchesOnly)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Memory under load", section.ToString());
}

return 0;

async Task<Result> MeasureAsync(string mode, Dictionary<string, string> environment, bool burst)
{
    var dataDir = Path.Combine(root, "server-" + Guid.NewGuid().ToString("N"));
    using var server = await ServerProcess.StartAsync(dataDir, environment);
    using var client = AdminClient.Create(dataDir, multipleConnections: true, TimeSpan.FromSeconds(120));
    await Task.Delay(settle);
    var emptyIdle = server.Rss();
    var url = server.Url;
    using (var ns = await client.PostAsync(new Uri(url, "/api/v1/namespaces"), Json("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"memory"}}""")))
    {
        ns.EnsureSuccessStatusCode();
    }

    var next = 0;
    var data = new string('v', 1024);
    await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
    {
        int n;
        while ((n = Interlocked.Increment(ref next)) <= Objects)
        {
            using var created = await client.PostAsync(new Uri(url, "/api/v1/namespaces/memory/configmaps"),
                Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-{{{n}}}","labels":{"app":"memory"}},"data":{"key":"{{{data}}}"}}"""));
            created.EnsureSuccessStatusCode();
        }
    })));
    await Task.Delay(settle);
    var idle = server.Rss();
    Console.Error.WriteLine($"{mode}: idle {emptyIdle:F1} MB empty, {idle:F1} MB with {Objects} objects");

    if (!burst)
    {
        var (beforeWatches, withWatches) = await OpenWatchesAsync(server, client);
        return new Result(mode, emptyIdle, idle, double.NaN, double.NaN, double.NaN, double.NaN, beforeWatches, withWatches, (withWatches - beforeWatches) * 1024 / Watches);
    }

    var peak = idle;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            peak = Math.Max(peak, server.Rss());
            await Task.Delay(20);
        }
    });
    long listBytes = 0;
    var clock = Stopwatch.StartNew();
    for (var wave = 0; wave < waves; wave++)
    {
        await Task.WhenAll(Enumerable.Range(0, Lists).Select(_ => Task.Run(async () =>
        {
            using var response = await client.GetAsync(new Uri(url, "/api/v1/namespaces/memory/configmaps"), HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            Interlocked.Exchange(ref listBytes, total);
        })));
    }

    var burstSeconds = clock.Elapsed.TotalSeconds;
    await sampling.CancelAsync();
    await sampler;
    peak = Math.Max(peak, server.Rss());
    Console.Error.WriteLine($"{mode}: peak {peak:F1} MB over {burstSeconds:F2} s");
    await Task.Delay(afterBurst);
    var after = server.Rss();
    Console.Error.WriteLine($"{mode}: {after:F1} MB {afterBurst.TotalSeconds:0} s after the burst");

    return new Result(mode, emptyIdle, idle, peak, after, burstSeconds, listBytes / 1048576.0, double.NaN, double.NaN, double.NaN);
}

async Task<(double Before, double With)> OpenWatchesAsync(ServerProcess server, HttpClient client)
{
    var url = server.Url;
    using var list = await client.GetAsync(new Uri(url, "/api/v1/namespaces/memory/configmaps?limit=1"));
    var rv = System.Text.Json.JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString();
    // Long enough for the idle trimmer to have run, so it does not shrink the heap between the two readings.
    await Task.Delay(TimeSpan.FromSeconds(45));
    var beforeWatches = server.Rss();
    using var stopWatches = new CancellationTokenSource();
    var opened = 0;
    var open = new List<Task>();
    var responses = new List<HttpResponseMessage>();
    var gate = new Lock();
    for (var i = 0; i < Watches; i++)
    {
        open.Add(Task.Run(async () =>
        {
            var response = await client.GetAsync(new Uri(url, $"/api/v1/namespaces/memory/configmaps?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=600"), HttpCompletionOption.ResponseHeadersRead, stopWatches.Token);
            response.EnsureSuccessStatusCode();
            lock (gate)
            {
                responses.Add(response);
            }

            Interlocked.Increment(ref opened);
        }));
    }

    await Task.WhenAll(open);
    await Task.Delay(TimeSpan.FromSeconds(45));
    var withWatches = server.Rss();
    Console.Error.WriteLine($"{opened} watches open: {beforeWatches:F1} -> {withWatches:F1} MB");
    await stopWatches.CancelAsync();
    foreach (var response in responses)
    {
        response.Dispose();
    }

    return (beforeWatches, withWatches);
}

static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

internal sealed record Result(string Mode, double EmptyIdle, double Idle, double Peak, double After, double BurstSeconds, double ListMegabytes, double BeforeWatches, double WithWatches, double PerWatchKilobytes);

/// <summary>The server process under test, stopped by its PID on dispose.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process process;

    private ServerProcess(Process process, Uri url)
    {
        this.process = process;
        Url = url;
    }

    public Uri Url { get; }

    public double Rss() => ProcessMemory.ResidentMegabytes(process.Id);

    public static async Task<ServerProcess> StartAsync(string dataDir, Dictionary<string, string> environment)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var info = KubesharpExecutable.StartInfo("server", "--disable-agent", "--data-dir", dataDir, "--https-port", port.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && errors.Count < 20)
            {
                errors.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("kubesharp server exited before it was ready: " + string.Join('\n', errors)));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(180));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw new InvalidOperationException("kubesharp server did not say it was ready: " + string.Join('\n', errors));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }

        return new ServerProcess(process, new Uri($"https://127.0.0.1:{port}"));
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
}
