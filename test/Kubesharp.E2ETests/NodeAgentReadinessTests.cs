using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kubesharp.E2ETests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// <c>kubesharp server</c> whose own node cannot start says so on its console and in /readyz instead of running
/// on without a node and calling itself ready.
/// </summary>
public sealed class NodeAgentReadinessTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-e2e-node-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await KubectlServer.StopAsync(_process);
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Server_NodeAgentCannotStart_ReportsOnConsoleAndReadyzFails()
    {
        // The node's directory is taken by a plain file: its containerd cannot start.
        Directory.CreateDirectory(_dataDir);
        await File.WriteAllTextAsync(Path.Combine(_dataDir, "agent"), "not a directory");
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var info = KubesharpExecutable.StartInfo("server", "--data-dir", _dataDir, "--https-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--disable-scheduler");

        var reported = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var saidReady = false;
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => saidReady |= e.Data?.Contains("ready at", StringComparison.Ordinal) == true;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("the node agent could not start", StringComparison.Ordinal) == true)
            {
                reported.TrySetResult(e.Data);
            }
        };
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => reported.TrySetException(new InvalidOperationException("kubesharp server exited"));
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var line = await reported.Task.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Contains("no node", line, StringComparison.Ordinal);
        Assert.False(saidReady, "the server said it was ready without its node");

#pragma warning disable CA5359 // the probe is anonymous, as a load balancer's is; the server's CA is not at hand
        using var probe = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
#pragma warning restore CA5359
        using var response = await probe.GetAsync(new Uri($"https://127.0.0.1:{port}/readyz?verbose"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("[-]node-agent failed: the node agent could not start: ", text, StringComparison.Ordinal);
        Assert.Contains("[+]watch-cache ok", text, StringComparison.Ordinal);

        // The API itself serves: the control plane is up, only the node is missing.
        using var livez = await probe.GetAsync(new Uri($"https://127.0.0.1:{port}/livez"));
        Assert.Equal(HttpStatusCode.OK, livez.StatusCode);
    }
}
