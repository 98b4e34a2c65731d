using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Kubesharp.ApiServer.Security;
using Kubesharp.Storage;
using Kubesharp.Storage.Etcd;
using Microsoft.Extensions.Logging;

namespace Kubesharp.EmbeddedEtcd;

/// <summary>
/// Runs the server's own etcd member (Debian etcd-server) the way the node's containerd is run: certificates
/// for clients and peers issued from the cluster CA, data in DATA/server/etcd, started before the API server,
/// restarted with back-off when it dies, stopped (SIGTERM, then SIGKILL) after the API server on shutdown.
/// </summary>
internal sealed partial class EtcdMemberSupervisor : IAsyncDisposable
{
    private const int SigTerm = 15;

    private readonly EtcdMemberOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider timeProvider;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock processLock = new();
    private Process? process;
    private Task? watchTask;
    private int restartCount;
    private bool forceNewCluster;
    private long logStart;

    public EtcdMemberSupervisor(EtcdMemberOptions options, ILogger logger, TimeProvider timeProvider)
    {
        this.options = options;
        this.logger = logger;
        this.timeProvider = timeProvider;
        Layout = new EtcdMemberLayout(options.DataDirectory);
        Name = Layout.MemberName();
        forceNewCluster = options.ForceNewCluster;
    }

    public EtcdMemberLayout Layout { get; }

    public string Name { get; }

    public string ClientUrl => EtcdMemberLayout.Url("https", IPAddress.Loopback, options.ClientPort);

    public string PeerUrl => EtcdMemberLayout.Url("https", options.AdvertiseAddress, options.PeerPort);

    /// <summary>The client URL other members' servers reach this member at (loopback when the server advertises loopback).</summary>
    public string AdvertisedClientUrl => IPAddress.IsLoopback(options.AdvertiseAddress) ? ClientUrl : EtcdMemberLayout.Url("https", options.AdvertiseAddress, options.ClientPort);

    /// <summary>The endpoint the API server's store uses: the member on loopback, with the server's etcd client certificate.</summary>
    public DatastoreEndpoint Endpoint => DatastoreEndpoint.Parse(ClientUrl, options.DataDirectory, Tls);

    public DatastoreTls Tls => new(Layout.CaFile, Layout.ClientCertFile, Layout.ClientKeyFile);

    /// <summary>The running member's process ID, or null.</summary>
    public int? ProcessId
    {
        get
        {
            lock (processLock)
            {
                return process is { HasExited: false } p ? p.Id : null;
            }
        }
    }

    public int RestartCount => Volatile.Read(ref restartCount);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(options.EtcdPath))
        {
            throw new FileNotFoundException($"etcd not found at {options.EtcdPath}; install the etcd-server package.", options.EtcdPath);
        }

        Directory.CreateDirectory(Layout.Root);
        IssueCertificates();
        await File.WriteAllTextAsync(Layout.ClientUrlFile, ClientUrl + "\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Layout.PeerUrlFile, PeerUrl + "\n", cancellationToken).ConfigureAwait(false);
        if (TryAdopt() is { } adopted)
        {
            LogAdopted(logger, adopted.Id, ClientUrl);
            lock (processLock)
            {
                process = adopted;
            }
        }
        else
        {
            StartProcess();
        }

        await WaitReadyAsync(cancellationToken).ConfigureAwait(false);
        watchTask = WatchAsync(stopping.Token);
    }

    /// <summary>Stops the member: SIGTERM, then SIGKILL after the stop timeout.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (watchTask is not null)
        {
            await watchTask.ConfigureAwait(false);
        }

        Process? current;
        lock (processLock)
        {
            current = process;
            process = null;
        }

        if (current is not null)
        {
            await TerminateAsync(current, cancellationToken).ConfigureAwait(false);
            current.Dispose();
        }

        File.Delete(Layout.PidFile);
    }

    public async ValueTask DisposeAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        stopping.Dispose();
    }

    /// <summary>Serving and peer certificates name loopback, the host and the advertised address; the client one is the API server's.</summary>
    private void IssueCertificates()
    {
        var names = new List<string> { "127.0.0.1", "localhost", System.Net.Dns.GetHostName(), options.AdvertiseAddress.ToString() }.Distinct(StringComparer.Ordinal).ToList();
        ClusterCertificates.IssueFromClusterCa(options.DataDirectory, $"CN=etcd-server-{Name}", names, serverAuth: true, clientAuth: true, Layout.ServerCertFile, Layout.ServerKeyFile, timeProvider);
        ClusterCertificates.IssueFromClusterCa(options.DataDirectory, $"CN=etcd-peer-{Name}", names, serverAuth: true, clientAuth: true, Layout.PeerCertFile, Layout.PeerKeyFile, timeProvider);
        ClusterCertificates.IssueFromClusterCa(options.DataDirectory, "CN=kube-apiserver-etcd-client", [], serverAuth: false, clientAuth: true, Layout.ClientCertFile, Layout.ClientKeyFile, timeProvider);
    }

    private IEnumerable<string> Arguments()
    {
        var clientUrls = IPAddress.IsLoopback(options.AdvertiseAddress)
            ? ClientUrl
            : $"{ClientUrl},{EtcdMemberLayout.Url("https", options.AdvertiseAddress, options.ClientPort)}";
        var advertisedClient = AdvertisedClientUrl;
        string[] reset = forceNewCluster ? ["--force-new-cluster"] : [];
        return
        [
            .. reset,
            "--name", Name,
            "--data-dir", Layout.DataDir,
            "--listen-client-urls", clientUrls,
            "--advertise-client-urls", advertisedClient,
            "--listen-peer-urls", PeerUrl,
            "--initial-advertise-peer-urls", PeerUrl,
            "--initial-cluster", options.InitialCluster ?? $"{Name}={PeerUrl}",
            "--initial-cluster-state", options.InitialCluster is null ? "new" : "existing",
            "--initial-cluster-token", "kubesharp",
            "--cert-file", Layout.ServerCertFile,
            "--key-file", Layout.ServerKeyFile,
            "--trusted-ca-file", Layout.CaFile,
            "--client-cert-auth",
            "--peer-cert-file", Layout.PeerCertFile,
            "--peer-key-file", Layout.PeerKeyFile,
            "--peer-trusted-ca-file", Layout.CaFile,
            "--peer-client-cert-auth",
            // Values up to the store's 1.5 MiB limit, plus key and framing.
            "--max-request-bytes", "4194304",
            // k3s's timings: a busy node's disk and CPU must not make the member lose its leadership.
            "--heartbeat-interval", "500",
            "--election-timeout", "5000",
            "--log-level", "warn",
        ];
    }

    private void StartProcess()
    {
        // As containerd: the shell sets up the log redirection, then becomes etcd (same PID) in a session of its own,
        // so a Ctrl+C meant for the server does not reach it and the supervisor stops it in order.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=\"$1\"; shift; if command -v setsid >/dev/null; then exec setsid \"$@\" >>\"$log\" 2>&1 </dev/null; fi; exec \"$@\" >>\"$log\" 2>&1 </dev/null");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(Layout.LogFile);
        start.ArgumentList.Add(options.EtcdPath);
        foreach (var argument in Arguments())
        {
            start.ArgumentList.Add(argument);
        }

        logStart = File.Exists(Layout.LogFile) ? new FileInfo(Layout.LogFile).Length : 0;
        var started = Process.Start(start) ?? throw new InvalidOperationException("Could not start etcd.");
        // The reset happens once: a restart after it must not drop members that joined since.
        forceNewCluster = false;
        File.WriteAllText(Layout.PidFile, started.Id.ToString(CultureInfo.InvariantCulture));
        lock (processLock)
        {
            process = started;
        }

        LogStarted(logger, started.Id, ClientUrl, PeerUrl);
    }

    /// <summary>A member left running on this data directory (the server was killed) is reused.</summary>
    private Process? TryAdopt()
    {
        if (Snapshots.EtcdSnapshotRestore.RunningMember(Layout) is not { } pid)
        {
            return null;
        }

        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").StartsWith(options.EtcdPath, StringComparison.Ordinal) ? Process.GetProcessById(pid) : null;
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.StartTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var storeOptions = new EtcdStoreOptions
        {
            Endpoints = [ClientUrl],
            UseTls = true,
            CaFile = Layout.CaFile,
            CertFile = Layout.ClientCertFile,
            KeyFile = Layout.ClientKeyFile,
            RequestTimeout = TimeSpan.FromSeconds(2),
        };
        Exception? last = null;
        while (true)
        {
            Process? current;
            lock (processLock)
            {
                current = process;
            }

            if (current is null || current.HasExited)
            {
                var reason = ExitReason(Layout.LogFile, logStart) is { } logged ? $": {logged}" : string.Empty;
                throw new InvalidOperationException($"etcd exited during start{reason}; see {Layout.LogFile}", last);
            }

            try
            {
                // A status answer proves the member serves clients; a write would wait for the cluster to have quorum.
                await using var store = await EtcdStore.OpenAsync(storeOptions, linked.Token).ConfigureAwait(false);
                await store.GetCurrentRevisionAsync(linked.Token).ConfigureAwait(false);
                LogReady(logger, Name, ClientUrl);
                return;
            }
            catch (StorageException e)
            {
                last = e;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"etcd did not answer within {options.StartTimeout}; see {Layout.LogFile}", last);
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), timeProvider, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"etcd did not answer within {options.StartTimeout}; see {Layout.LogFile}", last);
            }
        }
    }

    /// <summary>
    /// Why etcd stopped, as its log says after <paramref name="from"/> (this start's part of the file): its last critical
    /// line (the one it writes as it exits, "C |"), else its last line; null when it wrote nothing.
    /// </summary>
    private static string? ExitReason(string logFile, long from)
    {
        string text;
        try
        {
            using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            // The reason is at the end; a member that ran for long may have written megabytes before it.
            stream.Seek(Math.Max(from, stream.Length - (64 << 10)), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            text = reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var reason = Array.FindLast(lines, l => l.Contains(" C | ", StringComparison.Ordinal)) ?? lines.LastOrDefault();
        return reason is { Length: > 500 } ? reason[..500] : reason;
    }

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            Process? current;
            lock (processLock)
            {
                current = process;
            }

            if (current is null)
            {
                return;
            }

            try
            {
                await current.WaitForExitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            LogExited(logger, current.Id, SafeExitCode(current), backoff);
            try
            {
                await Task.Delay(backoff, timeProvider, stoppingToken).ConfigureAwait(false);
                StartProcess();
                Interlocked.Increment(ref restartCount);
                current.Dispose();
                await WaitReadyAsync(stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
                LogRestartFailed(logger, e.Message);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private async Task TerminateAsync(Process target, CancellationToken cancellationToken)
    {
        if (target.HasExited)
        {
            return;
        }

        LogStopping(logger, target.Id);
        _ = Kill(target.Id, SigTerm);
        using var timeout = new CancellationTokenSource(options.StopTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await target.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            target.Kill();
            await target.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static int SafeExitCode(Process target)
    {
        try
        {
            return target.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started etcd (pid {Pid}) for clients at {ClientUrl}, peers at {PeerUrl}")]
    private static partial void LogStarted(ILogger logger, int pid, string clientUrl, string peerUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reusing running etcd (pid {Pid}) at {ClientUrl}")]
    private static partial void LogAdopted(ILogger logger, int pid, string clientUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "etcd member {Name} serves clients at {ClientUrl}")]
    private static partial void LogReady(ILogger logger, string name, string clientUrl);

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd (pid {Pid}) exited with code {ExitCode}; restarting in {Backoff}")]
    private static partial void LogExited(ILogger logger, int pid, int exitCode, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Error, Message = "Restarting etcd failed: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping etcd (pid {Pid})")]
    private static partial void LogStopping(ILogger logger, int pid);
}
