using System.Diagnostics;
using System.Globalization;
using Kubesharp.Bench.Common;
using Kubesharp.Storage.Etcd;

namespace Kubesharp.Bench.Ha;

/// <summary>
/// One <c>kubesharp server --disable-agent</c> process with its own etcd member (<c>--cluster-init</c> or
/// <c>--server</c>), on ports chosen once so that a restart after a kill comes back at the same addresses.
/// </summary>
internal sealed class HaServer : IAsyncDisposable
{
    private readonly string[] arguments;
    private Process? process;

    private HaServer(string name, string dataDir, string[] arguments)
    {
        Name = name;
        DataDir = dataDir;
        this.arguments = arguments;
        HttpsPort = FreePorts.Next();
        EtcdClientPort = FreePorts.Next();
        EtcdPeerPort = FreePorts.Next();
    }

    public string Name { get; }

    public string DataDir { get; }

    public int HttpsPort { get; }

    public int EtcdClientPort { get; }

    public int EtcdPeerPort { get; }

    public Uri Url => new($"https://127.0.0.1:{HttpsPort}");

    public bool Running => process is { HasExited: false };

    /// <summary>Starts a server: <paramref name="arguments"/> are <c>--cluster-init</c>, or <c>--server URL --token T</c>.</summary>
    public static async Task<HaServer> StartAsync(string root, string name, params string[] arguments)
    {
        var server = new HaServer(name, Path.Combine(root, name), arguments);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts the process again on the same data directory and ports (a member that restarts).</summary>
    public async Task StartAsync()
    {
        var info = KubesharpExecutable.StartInfo(new[]
        {
            "server", "--disable-agent", "--data-dir", DataDir, "--advertise-address", "127.0.0.1",
            "--https-port", Invariant(HttpsPort), "--etcd-client-port", Invariant(EtcdClientPort), "--etcd-peer-port", Invariant(EtcdPeerPort),
        }.Concat(arguments));
        var started = Process.Start(info)!;
        process = started;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        started.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        started.ErrorDataReceived += (_, _) => { };
        started.EnableRaisingEvents = true;
        started.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"kubesharp server {Name} exited before it was ready"));
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(180));
    }

    /// <summary>The server token that joins further servers.</summary>
    public string Token => File.ReadAllText(Path.Combine(DataDir, "server", "token")).Trim();

    public HttpClient CreateClient(TimeSpan timeout) => AdminClient.Create(DataDir, multipleConnections: false, timeout);

    /// <summary>The server's etcd member, reached with the server's own etcd client certificate.</summary>
    public Task<EtcdStore> OpenMemberAsync(CancellationToken cancellationToken)
    {
        var etcd = Path.Combine(DataDir, "server", "etcd");
        return EtcdStore.OpenAsync(new EtcdStoreOptions
        {
            Endpoints = [$"https://127.0.0.1:{EtcdClientPort}"],
            UseTls = true,
            CaFile = Path.Combine(DataDir, "server", "tls", "ca.crt"),
            CertFile = Path.Combine(etcd, "tls", "client.crt"),
            KeyFile = Path.Combine(etcd, "tls", "client.key"),
            RequestTimeout = TimeSpan.FromSeconds(3),
        }, cancellationToken);
    }

    /// <summary>A machine dies: SIGKILL to the server and to its etcd member.</summary>
    public void Kill()
    {
        var member = MemberProcess();
        if (process is { HasExited: false } running)
        {
            running.Kill();
        }

        member?.Kill();
        process?.WaitForExit(10_000);
        member?.WaitForExit(10_000);
        member?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false } running)
        {
            // SIGTERM: the server stops its member in order; SIGKILL after a bound.
            using (var term = Process.Start("kill", ["-TERM", Invariant(running.Id)]))
            {
                await term.WaitForExitAsync();
            }

            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await running.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                running.Kill();
                await running.WaitForExitAsync();
            }
        }

        process?.Dispose();
        using var member = MemberProcess();
        if (member is not null)
        {
            member.Kill();
            await member.WaitForExitAsync();
        }
    }

    /// <summary>The etcd member's process from its PID file, only when it is still the member of this data directory.</summary>
    private Process? MemberProcess()
    {
        var pidFile = Path.Combine(DataDir, "server", "etcd", "etcd.pid");
        try
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid)
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains(DataDir, StringComparison.Ordinal))
            {
                var member = Process.GetProcessById(pid);
                if (!member.HasExited)
                {
                    return member;
                }

                member.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        {
        }

        return null;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
