using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Kubesharp.Storage.Etcd;

namespace Kubesharp.Storage.Tests.Etcd;

/// <summary>A real etcd (Debian etcd-server) on free loopback ports in a temporary directory; stopped by its PID.</summary>
public sealed class EtcdServer : IAsyncLifetime
{
    public const string Executable = "/usr/bin/etcd";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kubesharp-etcd-" + Guid.NewGuid().ToString("N"));
    private readonly string? _existingDataDir;
    private readonly string _name = "test";
    private readonly int? _peerPort;
    private Process? _process;

    public EtcdServer()
    {
    }

    /// <summary>
    /// An etcd on a data directory made elsewhere (a restored snapshot): the member's name and peer port are the
    /// ones written into it; the directory belongs to the caller.
    /// </summary>
    internal EtcdServer(string existingDataDir, string name, int peerPort)
    {
        _existingDataDir = existingDataDir;
        _name = name;
        _peerPort = peerPort;
    }

    /// <summary>The etcd process ID while it runs.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>An etcd that serves clients over TLS only and demands a client certificate signed by <paramref name="certificates"/>' CA.</summary>
    internal EtcdServer(TestCertificates certificates)
    {
        Certificates = certificates;
    }

    internal TestCertificates? Certificates { get; }

    public string Endpoint { get; private set; } = string.Empty;

    /// <summary>The options a client needs: the endpoint and, for a TLS server, the CA and a client certificate.</summary>
    public EtcdStoreOptions StoreOptions(TimeSpan? requestTimeout = null) => new()
    {
        Endpoints = [Endpoint],
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(15),
        UseTls = Certificates is not null,
        CaFile = Certificates?.CaFile,
        CertFile = Certificates?.ClientCertFile,
        KeyFile = Certificates?.ClientKeyFile,
    };

    public async Task InitializeAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: install the etcd-server package");
        }

        var client = LoopbackPort.Free();
        var peer = _peerPort ?? LoopbackPort.Free();
        Endpoint = $"127.0.0.1:{client}";
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var clientScheme = Certificates is null ? "http" : "https";
        if (Certificates is { } certificates)
        {
            foreach (var argument in new[]
            {
                "--cert-file", certificates.ServerCertFile,
                "--key-file", certificates.ServerKeyFile,
                "--trusted-ca-file", certificates.CaFile,
                "--client-cert-auth",
            })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in new[]
        {
            "--name", _name,
            "--data-dir", _existingDataDir ?? Path.Combine(_directory, "data"),
            "--listen-client-urls", $"{clientScheme}://127.0.0.1:{client}",
            "--advertise-client-urls", $"{clientScheme}://127.0.0.1:{client}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", $"{_name}=http://127.0.0.1:{peer}",
            // Requests carry values up to the store's 1.5 MiB limit plus the key and framing.
            "--max-request-bytes", "4194304",
            "--log-level", "error",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                await using var store = await EtcdStore.OpenAsync(StoreOptions(TimeSpan.FromSeconds(2)), deadline.Token);
                return;
            }
            catch (StorageException) when (!deadline.IsCancellationRequested && !_process.HasExited)
            {
                // Not listening yet.
                await Task.Delay(50, deadline.Token);
            }
        }
    }

    public Task<EtcdStore> OpenStoreAsync() => EtcdStore.OpenAsync(StoreOptions(), default);

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
