using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Bench.Common;
using Kubesharp.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using IPAddress = System.Net.IPAddress;
using Endpoint = Kubesharp.Api.Discovery.V1.Endpoint;

// Ingress requests/s and latency: the same Kestrel backend addressed directly, through the real `kubesharp server`
// ingress controller (an Ingress routing a host to a Service whose EndpointSlice names the backend), and through
// Debian's nginx configured as the equivalent reverse proxy (keep-alive upstream, Host and X-Forwarded-For passed).
var quick = args.Contains("--quick");
var write = args.SkipWhile(a => a != "--write").Skip(1).FirstOrDefault();
var seconds = quick ? 2 : 5;
// More alternating rounds (--rounds N) average out a shared machine's bursts.
var rounds = int.TryParse(args.SkipWhile(a => a != "--rounds").Skip(1).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var asked) && asked > 0 ? asked : 2;
const int Concurrency = 16;
var backendApp = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
backendApp.WebHost.UseKestrelCore();
backendApp.WebHost.ConfigureKestrel(k => { k.AddServerHeader = false; k.Listen(IPAddress.Loopback, 0); });
var backend = backendApp.Build();
var payload = Encoding.ASCII.GetBytes("ok from the backend\n");
backend.Run(context => context.Response.Body.WriteAsync(payload).AsTask());
await backend.StartAsync();
var backendPort = new Uri(backend.Urls.First()).Port;

var dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-bench-ingress-" + Guid.NewGuid().ToString("N"));
var ingressPort = FreePort();
var server = await StartServerAsync(dataDir, ingressPort);
Process? nginx = null;
var nginxDir = Path.Combine(dataDir, "nginx");
try
{
    using var client = KubernetesClient.FromKubeconfig(Path.Combine(dataDir, "kubeconfig.yaml"));
    await client.Resource<Service>().CreateAsync(new Service
    {
        Metadata = new ObjectMeta { Name = "web", Namespace = "default" },
        Spec = new ServiceSpec { Ports = [new ServicePort { Name = "http", Port = 80, TargetPort = new IntOrString(8080) }] },
    });
    await client.Resource<EndpointSlice>().CreateAsync(new EndpointSlice
    {
        Metadata = new ObjectMeta { Name = "web-1", Namespace = "default", Labels = new() { ["kubernetes.io/service-name"] = "web" } },
        AddressType = "IPv4",
        Ports = [new Kubesharp.Api.Discovery.V1.EndpointPort { Name = "http", Port = backendPort, Protocol = "TCP" }],
        Endpoints = [new Endpoint { Addresses = ["127.0.0.1"], Conditions = new EndpointConditions { Ready = true } }],
    });
    await client.Resource<Ingress>().CreateAsync(new Ingress
    {
        Metadata = new ObjectMeta { Name = "web", Namespace = "default" },
        Spec = new IngressSpec
        {
            Rules = [new IngressRule
            {
                Host = "web.bench",
                Http = new HTTPIngressRuleValue { Paths = [new HTTPIngressPath { Path = "/", PathType = "Prefix", Backend = new IngressBackend { Service = new IngressServiceBackend { Name = "web", Port = new ServiceBackendPort { Number = 80 } } } }] },
            }],
        },
    });

    var targets = new List<(string Name, Uri Url)>
    {
        ("backend directly (floor)", new Uri($"http://127.0.0.1:{backendPort}/")),
        ("kubesharp ingress (YARP)", new Uri($"http://127.0.0.1:{ingressPort}/")),
    };
    var nginxPath = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null;
    if (nginxPath is not null)
    {
        var nginxPort = FreePort();
        nginx = StartNginx(nginxPath, nginxDir, nginxPort, backendPort);
        targets.Add(("nginx reverse proxy (peer)", new Uri($"http://127.0.0.1:{nginxPort}/")));
    }

    // Ready: each target answers 200 (the ingress once the controller has the route).
    foreach (var (name, url) in targets)
    {
        using var probe = NewClient();
        var ok = false;
        for (var i = 0; i < 500 && !ok; i++)
        {
            try
            {
                using var response = await probe.SendAsync(Request(url));
                ok = response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
            }

            if (!ok)
            {
                await Task.Delay(20);
            }
        }

        if (!ok)
        {
            throw new InvalidOperationException($"{name} at {url} never answered 200");
        }
    }

    var results = targets.ToDictionary(t => t.Name, _ => (Requests: 0L, Failed: 0L, Seconds: 0.0, Latencies: new List<double>()));
    // CPU time of each proxy's processes (the whole kubesharp server with its ingress proxy child; nginx's master and workers) over its rounds.
    var proxyProcesses = new Dictionary<string, Func<double>>
    {
        [targets[1].Name] = () => CpuSeconds(server.Id) + ChildProcesses(server.Id).Sum(CpuSeconds),
    };
    if (nginx is not null)
    {
        var master = nginx.Id;
        proxyProcesses[targets[2].Name] = () => CpuSeconds(master) + ChildProcesses(master).Sum(CpuSeconds);
    }

    var proxyCpu = proxyProcesses.Keys.ToDictionary(k => k, _ => 0.0);
    foreach (var (name, url) in targets)
    {
        await LoadAsync(url, TimeSpan.FromSeconds(1)); // warm-up
    }

    for (var round = 0; round < rounds; round++)
    {
        foreach (var (name, url) in targets)
        {
            var cpuBefore = proxyProcesses.TryGetValue(name, out var cpu) ? cpu() : 0;
            var (requests, failed, elapsed, latencies) = await LoadAsync(url, TimeSpan.FromSeconds(seconds));
            var roundCpu = cpu is null ? 0 : cpu() - cpuBefore;
            if (cpu is not null)
            {
                proxyCpu[name] += roundCpu;
            }

            var r = results[name];
            r.Latencies.AddRange(latencies);
            results[name] = (r.Requests + requests, r.Failed + failed, r.Seconds + elapsed, r.Latencies);
            Console.Error.WriteLine(cpu is null ? $"{name}: {requests / elapsed:0} req/s" : $"{name}: {requests / elapsed:0} req/s, {1e6 * roundCpu / Math.Max(1, requests):0.0} µs CPU per request");
        }
    }

    var serverRss = RssMegabytes(server.Id);
    var proxyRss = ChildProcesses(server.Id).Sum(RssMegabytes);
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ') : ["?", "?", "?"];
    var floor = results[targets[0].Name];
    var floorRate = floor.Requests / floor.Seconds;
    var section = new StringBuilder();
    section.AppendLine("## Ingress");
    section.AppendLine();
    section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Ingress`{(quick ? " (--quick)" : string.Empty)}. One Kestrel backend in the benchmark process on loopback answering 20 bytes; the real");
    section.AppendLine(CultureInfo.InvariantCulture, $"`kubesharp server` process ({KubesharpExecutable.Description}) routes a host of an Ingress to a Service whose EndpointSlice names the backend; Debian's nginx");
    section.AppendLine("is configured as the equivalent reverse proxy (one `server`, `proxy_pass` to a keep-alive upstream, Host and X-Forwarded-For");
    section.AppendLine(CultureInfo.InvariantCulture, $"passed, access log off, `worker_processes auto`). {Concurrency} concurrent keep-alive HTTP/1.1 clients in the benchmark process send GETs back to");
    section.AppendLine(CultureInfo.InvariantCulture, $"back; {rounds} alternating rounds of {seconds} s per target after a 1 s warm-up. Client, backend and proxy share the machine's cores: nginx's");
    section.AppendLine("workers may use all of them, as may the ingress proxy's threads, so neither proxy has fewer cores than the other; the proxy is");
    section.AppendLine("a child process of the server, which runs the API server and controllers meanwhile, as in use; both processes count in the CPU");
    section.AppendLine(!KubesharpExecutable.IsNative
        ? "and RSS lines, and the JIT is still tiering the proxy's code up in the first rounds (nginx is compiled ahead of time). The CPU\nline below is the less noise-prone comparison on a shared machine."
        : "and RSS lines; both proxies are compiled ahead of time. The CPU line below is the less noise-prone comparison on a shared\nmachine.");
    section.AppendLine();
    section.AppendLine("| path | requests/s | p50 ms | p99 ms | failed | requests/s vs. direct |");
    section.AppendLine("|---|--:|--:|--:|--:|--:|");
    foreach (var (name, _) in targets)
    {
        var r = results[name];
        var rate = r.Requests / r.Seconds;
        section.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {rate:0} | {BenchmarkReport.Format(BenchmarkReport.Percentile(r.Latencies, 0.5), "0.00")} | {BenchmarkReport.Format(BenchmarkReport.Percentile(r.Latencies, 0.99), "0.00")} | {r.Failed} | {BenchmarkReport.Ratio(rate, floorRate)} |");
    }

    if (nginxPath is not null)
    {
        var ours = results[targets[1].Name];
        var peer = results[targets[2].Name];
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"kubesharp ingress / nginx: requests/s {BenchmarkReport.Ratio(ours.Requests / ours.Seconds, peer.Requests / peer.Seconds)}, p99 {BenchmarkReport.Ratio(BenchmarkReport.Percentile(ours.Latencies, 0.99), BenchmarkReport.Percentile(peer.Latencies, 0.99))}.");
        var ourCpu = 1e6 * proxyCpu[targets[1].Name] / Math.Max(1, ours.Requests);
        var peerCpu = 1e6 * proxyCpu[targets[2].Name] / Math.Max(1, peer.Requests);
        section.AppendLine(CultureInfo.InvariantCulture, $"Proxy CPU time (user + system) per request over the measured rounds: kubesharp server {ourCpu:0.0} µs, nginx {peerCpu:0.0} µs ({BenchmarkReport.Ratio(ourCpu, peerCpu)}).");
        var nginxRss = RssMegabytes(nginx!.Id) + ChildProcesses(nginx.Id).Sum(RssMegabytes);
        section.AppendLine(CultureInfo.InvariantCulture, $"RSS after the rounds: kubesharp server {serverRss:0.0} MB plus its ingress proxy process {proxyRss:0.0} MB; nginx (master and workers) {nginxRss:0.0} MB.");
    }
    else
    {
        section.AppendLine();
        section.AppendLine("nginx was not installed (`apt-get install nginx-light`): no peer row in this run.");
    }

    section.AppendLine(CultureInfo.InvariantCulture, $"Load average at the end of the run: {load[0]} / {load[1]} / {load[2]} (1/5/15 min, {Environment.ProcessorCount} cores).");
    Console.Write(section);
    if (write is not null)
    {
        await BenchmarkReport.WriteSectionAsync(write, "## Ingress", section.ToString());
    }
}
finally
{
    if (nginx is not null)
    {
        nginx.Kill(entireProcessTree: true);
        await nginx.WaitForExitAsync();
        nginx.Dispose();
    }

    server.Kill(entireProcessTree: true);
    await server.WaitForExitAsync();
    server.Dispose();
    await backend.StopAsync();
    await backend.DisposeAsync();
    try
    {
        Directory.Delete(dataDir, recursive: true);
    }
    catch (IOException)
    {
    }
}

return 0;

static HttpClient NewClient() => new(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Concurrency, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) }) { Timeout = TimeSpan.FromSeconds(30) };

static HttpRequestMessage Request(Uri url)
{
    var request = new HttpRequestMessage(HttpMethod.Get, url);
    request.Headers.Host = "web.bench";
    return request;
}

static async Task<(long Requests, long Failed, double Seconds, List<double> Latencies)> LoadAsync(Uri url, TimeSpan duration)
{
    using var client = NewClient();
    var stopwatch = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
    {
        var latencies = new List<double>(100_000);
        long failed = 0;
        while (stopwatch.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var response = await client.SendAsync(Request(url));
                await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failed++;
                    continue;
                }
            }
            catch (HttpRequestException)
            {
                failed++;
                continue;
            }

            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return (latencies, failed);
    })).ToList();
    var done = await Task.WhenAll(workers);
    var elapsed = stopwatch.Elapsed.TotalSeconds;
    var all = done.SelectMany(d => d.latencies).ToList();
    return (all.Count, done.Sum(d => d.failed), elapsed, all);
}

static async Task<Process> StartServerAsync(string dataDir, int ingressPort)
{
    var info = KubesharpExecutable.StartInfo(
        "server", "--data-dir", dataDir, "--https-port", FreePort().ToString(CultureInfo.InvariantCulture),
        "--disable-agent", "--simulated-nodes", "1", "--ingress-bind-address", "127.0.0.1",
        "--ingress-http-port", ingressPort.ToString(CultureInfo.InvariantCulture), "--ingress-https-port", FreePort().ToString(CultureInfo.InvariantCulture));
    var process = Process.Start(info)!;
    var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    process.OutputDataReceived += (_, e) =>
    {
        if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
        {
            ready.TrySetResult();
        }
    };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    await ready.Task.WaitAsync(TimeSpan.FromSeconds(120));
    return process;
}

static Process StartNginx(string nginx, string prefix, int port, int backendPort)
{
    Directory.CreateDirectory(prefix);
    var config = Path.Combine(prefix, "nginx.conf");
    File.WriteAllText(config, $$"""
        daemon off;
        worker_processes auto;
        pid {{prefix}}/nginx.pid;
        error_log {{prefix}}/error.log warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            client_body_temp_path {{prefix}}/body;
            proxy_temp_path {{prefix}}/proxy;
            upstream backend { server 127.0.0.1:{{backendPort}}; keepalive 64; }
            server {
                listen 127.0.0.1:{{port}};
                location / {
                    proxy_pass http://backend;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_set_header Host $host;
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Forwarded-Proto $scheme;
                }
            }
        }
        """);
    return Process.Start(new ProcessStartInfo(nginx, ["-p", prefix, "-c", config]) { UseShellExecute = false })!;
}

// utime + stime of a process, from /proc (in USER_HZ, 100 a second on Linux; 0 once it is gone).
static double CpuSeconds(int pid)
{
    try
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        return 0;
    }
}

// Resident memory of a process, from /proc (0 once it is gone).
static double RssMegabytes(int pid)
{
    try
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        return 0;
    }
}

static IEnumerable<int> ChildProcesses(int parent)
{
    foreach (var directory in Directory.EnumerateDirectories("/proc"))
    {
        if (int.TryParse(Path.GetFileName(directory), out var pid) && File.Exists(Path.Combine(directory, "stat")))
        {
            string[] fields;
            try
            {
                fields = File.ReadAllText(Path.Combine(directory, "stat")).Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue;
            }

            if (fields.Length > 1 && fields[1] == parent.ToString(CultureInfo.InvariantCulture))
            {
                yield return pid;
            }
        }
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
