using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Kubesharp.Bench.Common;

/// <summary>
/// The real <c>kubesharp server --disable-agent --simulated-nodes N</c> as its own process, on a free loopback
/// port and a data directory of its own, removed when disposed.
/// </summary>
internal sealed class SimulatedServer : IDisposable
{
    private readonly Process process;

    private SimulatedServer(Process process, string dataDir)
    {
        this.process = process;
        DataDir = dataDir;
    }

    public string DataDir { get; }

    public string Kubeconfig => Path.Combine(DataDir, "kubeconfig.yaml");

    public static async Task<SimulatedServer> StartAsync(int nodes)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-workloads-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var info = KubesharpExecutable.StartInfo("server", "--disable-agent", "--data-dir", dataDir, "--https-port", port.ToString(CultureInfo.InvariantCulture), "--simulated-nodes", nodes.ToString(CultureInfo.InvariantCulture), "--cluster-cidr", "10.128.0.0/9");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new ConcurrentQueue<string>();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
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
        var server = new SimulatedServer(process, dataDir);
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromMinutes(5));
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
