using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kubesharp.Grpc;
using Kubesharp.Storage.Etcd.Protocol;

namespace Kubesharp.Bench.Grpc;

/// <summary>A single etcd member on free loopback ports with fsync off; stopped by its PID, its directory removed.</summary>
internal sealed class EtcdProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    private EtcdProcess(Process process, string directory, string endpoint)
    {
        this.process = process;
        this.directory = directory;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public static async Task<EtcdProcess> StartAsync(string parent, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(parent, "etcd");
        var client = FreePort();
        var peer = FreePort();
        var start = new ProcessStartInfo("/usr/bin/etcd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--name", "grpc-bench", "--data-dir", directory, "--unsafe-no-fsync",
            "--listen-client-urls", $"http://127.0.0.1:{client}", "--advertise-client-urls", $"http://127.0.0.1:{client}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", $"grpc-bench=http://127.0.0.1:{peer}", "--log-level", "error",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var etcd = new EtcdProcess(process, directory, $"127.0.0.1:{client}");
        using var channel = GrpcChannel.ForAddress("http://" + etcd.Endpoint);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await channel.UnaryAsync("/etcdserverpb.KV/Range", new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("/") }, RangeResponse.Parser,
                    new CallOptions { Timeout = TimeSpan.FromSeconds(2) }, cancellationToken);
                return etcd;
            }
            catch (RpcException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
