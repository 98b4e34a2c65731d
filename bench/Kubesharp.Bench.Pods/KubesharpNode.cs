using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using Kubesharp.Bench.Common;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Network;
using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Bench.Pods;

/// <summary>
/// The real <c>kubesharp server</c> process with its node (its own containerd and CNI bridge), driven over HTTPS
/// with the admin certificate. Stopped by its PID; what its containers left is removed at the end.
/// </summary>
internal sealed class KubesharpNode : IAsyncDisposable
{
    private readonly Process process;
    private readonly GrpcChannel criChannel;

    private KubesharpNode(Process process, string dataDir, Uri url, HttpClient client)
    {
        this.process = process;
        DataDir = dataDir;
        Url = url;
        Client = client;
        criChannel = UnixSocketChannel.ForEndpoint(new ContainerdLayout(AgentDir).Endpoint);
        Runtime = new CriRuntimeClient(criChannel);
        Images = new CriImageClient(criChannel);
    }

    public string DataDir { get; }

    /// <summary>The server's process id (control plane and agent in one process; containerd is its child).</summary>
    public int ProcessId => process.Id;

    /// <summary>Seconds from the process start until /readyz answered OK.</summary>
    public double ReadyzSeconds { get; private set; } = double.NaN;

    /// <summary>Seconds from the process start until the node reported Ready and the default ServiceAccount existed.</summary>
    public double NodeReadySeconds { get; private set; } = double.NaN;

    public string AgentDir => Path.Combine(DataDir, "agent");

    public Uri Url { get; }

    public HttpClient Client { get; }

    /// <summary>The node's containerd, read only to see when sandboxes are gone.</summary>
    public IRuntimeService Runtime { get; }

    public IImageService Images { get; }

    public static async Task<KubesharpNode> StartAsync(string dataDir, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var info = KubesharpExecutable.StartInfo("server", "--data-dir", dataDir, "--https-port", port.ToString(CultureInfo.InvariantCulture));
        var log = new StreamWriter(Path.Combine(Path.GetTempPath(), "kubesharp-bench-pods-server.log"), append: false) { AutoFlush = true };
        var clock = Stopwatch.StartNew();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var url = new Uri($"https://127.0.0.1:{port}");
        while (!File.Exists(Path.Combine(dataDir, "kubeconfig.yaml")))
        {
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new InvalidOperationException("kubesharp server did not start (see kubesharp-bench-pods-server.log in the temp directory)");
            }

            await Task.Delay(10, cancellationToken);
        }

        var client = CreateClient(dataDir);
        var node = new KubesharpNode(process, dataDir, url, client);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(180));
            await node.WaitReadyAsync(clock, deadline.Token);
            return node;
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            await node.DisposeAsync();
            throw new InvalidOperationException("the kubesharp node did not become Ready (see kubesharp-bench-pods-server.log in the temp directory)", e);
        }
    }

    /// <summary>
    /// Waits for /readyz, then for the node's Ready condition through a watch, so that the moment is the server's own
    /// (the floor's is an awaited task; a polling loop would add its period and its requests' load).
    /// </summary>
    private async Task WaitReadyAsync(Stopwatch clock, CancellationToken cancellationToken)
    {
        while (double.IsNaN(ReadyzSeconds))
        {
            ThrowIfExited();
            try
            {
                using var readyz = await Client.GetAsync(new Uri(Url, "/readyz"), cancellationToken);
                if (readyz.IsSuccessStatusCode)
                {
                    ReadyzSeconds = clock.Elapsed.TotalSeconds;
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(10, cancellationToken);
        }

        var nodes = await GetJsonAsync("/api/v1/nodes", cancellationToken);
        if (!AnyNodeReady(nodes?["items"]?.AsArray()))
        {
            var resourceVersion = (string?)nodes?["metadata"]?["resourceVersion"];
            using var response = await Client.GetAsync(
                new Uri(Url, $"/api/v1/nodes?watch=1&allowWatchBookmarks=false&resourceVersion={resourceVersion}"),
                HttpCompletionOption.ResponseHeadersRead,
                cancellationToken);
            response.EnsureSuccessStatusCode();
            using var events = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (true)
            {
                var line = await events.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("the node watch ended before a node was Ready");
                if (line.Length > 0 && AnyNodeReady([JsonNode.Parse(line)?["object"]]))
                {
                    break;
                }
            }
        }

        var readyAt = clock.Elapsed.TotalSeconds;
        // Pods need the namespace's default ServiceAccount; the controller makes it long before the node is Ready, and
        // if not, the later of the two moments counts.
        while (true)
        {
            ThrowIfExited();
            using var account = await Client.GetAsync(new Uri(Url, "/api/v1/namespaces/default/serviceaccounts/default"), cancellationToken);
            if (account.IsSuccessStatusCode)
            {
                NodeReadySeconds = readyAt;
                return;
            }

            await Task.Delay(10, cancellationToken);
            readyAt = clock.Elapsed.TotalSeconds;
        }
    }

    private static bool AnyNodeReady(IEnumerable<JsonNode?>? nodes) =>
        nodes?.Any(n => n?["status"]?["conditions"]?.AsArray().Any(c => (string?)c?["type"] == "Ready" && (string?)c?["status"] == "True") == true) == true;

    private void ThrowIfExited()
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"kubesharp server exited with code {process.ExitCode}");
        }
    }

    public async Task<JsonNode?> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await Client.GetAsync(new Uri(Url, path), cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public async Task SendAsync(HttpMethod method, string path, string? json, CancellationToken cancellationToken, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, new Uri(Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await Client.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode && !(method == HttpMethod.Delete && response.StatusCode == HttpStatusCode.NotFound))
        {
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>Imports an image archive into the node's containerd and waits until its CRI plugin lists the images.</summary>
    public async Task ImportAsync(string archive, CancellationToken cancellationToken)
    {
        await new ContainerdImageImporter(new ContainerdLayout(AgentDir).Socket).ImportAndWaitAsync(archive, Images, TimeProvider.System, cancellationToken);
    }

    /// <summary>Waits (bounded) until the namespace has no pods and the node's containerd no ready sandboxes.</summary>
    public async Task WaitEmptyAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            var pods = await GetJsonAsync("/api/v1/namespaces/default/pods", cancellationToken);
            var sandboxes = await Runtime.ListPodSandboxAsync(new PodSandboxFilter { State = new PodSandboxStateValue { State = PodSandboxState.SandboxReady } }, cancellationToken);
            if (pods?["items"]?.AsArray().Count == 0 && sandboxes.Count == 0)
            {
                return;
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException("pods were not gone from the kubesharp node within 180 s");
    }

    public async ValueTask DisposeAsync()
    {
        criChannel.Dispose();
        Client.Dispose();
        await HostCommand.StopAsync(process, TimeSpan.FromSeconds(30));
        process.Dispose();
        await HostCommand.RemoveNodeLeftoversAsync(DataDir, CniNetworkOptions.DefaultNetworkName, CniNetworkOptions.DefaultBridgeName);
    }

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }

    private static HttpClient CreateClient(string dataDir) => AdminClient.Create(dataDir, multipleConnections: true, Timeout.InfiniteTimeSpan);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
