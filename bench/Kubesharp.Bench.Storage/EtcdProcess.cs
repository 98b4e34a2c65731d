using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kubesharp.Storage;
using Kubesharp.Storage.Etcd;

namespace Kubesharp.Bench.Storage;

/// <summary>An etcd with default (durable) settings unless told otherwise, on free loopback ports; stopped by its PID.</summary>
internal sealed class EtcdProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private EtcdProcess(Process process, string directory, string endpoint)
    {
        _process = process;
        _directory = directory;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <param name="extraArguments">More etcd flags, such as --unsafe-no-fsync where the disk must not hide a client's cost.</param>
    public static async Task<EtcdProcess> StartAsync(string executable, string directory, params string[] extraArguments)
    {
        var client = FreePort();
        var peer = FreePort();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--name", "bench", "--data-dir", Path.Combine(directory, "etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{client}", "--advertise-client-urls", $"http://127.0.0.1:{client}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", $"bench=http://127.0.0.1:{peer}", "--max-request-bytes", "4194304", "--log-level", "error",
        }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var etcd = new EtcdProcess(process, directory, $"127.0.0.1:{client}");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var store = await EtcdStore.OpenAsync(new EtcdStoreOptions { Endpoints = [etcd.Endpoint], RequestTimeout = TimeSpan.FromSeconds(2) }, default);
                return etcd;
            }
            catch (StorageException) when (attempt < 600 && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(Path.Combine(_directory, "etcd"), recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
