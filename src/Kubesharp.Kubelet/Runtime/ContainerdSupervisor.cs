using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime.Registries;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Runtime;

/// <summary>
/// Runs the agent's own containerd: writes its config, starts it, waits until CRI answers, imports the
/// locally built sandbox image, restarts containerd when it dies, and stops it on shutdown. Containers
/// run under their shims, so they outlive a containerd restart (and the agent's).
/// </summary>
public sealed partial class ContainerdSupervisor : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const string SandboxArchiveName = "pause.oci.tar";

    private readonly ContainerdOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider timeProvider;
    private readonly CancellationTokenSource stopping = new();
    private readonly object processLock = new();
    private Process? process;
    private Task? watchTask;
    private GrpcChannel? channel;
    private int restartCount;

    public ContainerdSupervisor(ContainerdOptions options, ILogger<ContainerdSupervisor> logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        this.options = options;
        this.logger = logger;
        this.timeProvider = timeProvider ?? TimeProvider.System;
        Layout = new ContainerdLayout(options.DataDir);
    }

    public ContainerdLayout Layout { get; }

    /// <summary>The CRI endpoint ("unix:///…/containerd.sock").</summary>
    public string Endpoint => Layout.Endpoint;

    /// <summary>The running containerd's process ID, or null when it is not running.</summary>
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

    /// <summary>How many times containerd was restarted after it died.</summary>
    public int RestartCount => Volatile.Read(ref restartCount);

    public IRuntimeService Runtime { get; private set; } = null!;

    /// <summary>
    /// Completes once containerd has the sandbox image, which is imported beside the node's registration after
    /// <see cref="StartAsync"/>; no pod sandbox can start before. Faults when it cannot be imported.
    /// </summary>
    public Task SandboxImageReady { get; private set; } = Task.CompletedTask;

    public IImageService Images { get; private set; } = null!;

    /// <summary>Imports image archives into this containerd.</summary>
    public ContainerdImageImporter Importer => new(Layout.Socket, options.CtrPath);

    /// <summary>What <see cref="ImageArchiveLoader"/> has imported into this containerd.</summary>
    public string ImportedArchivesFile => Path.Combine(Layout.Directory, "imported-archives.json");

    /// <summary>The channel to containerd's socket (CRI and containerd's own services).</summary>
    public GrpcChannel Channel => channel ?? throw new InvalidOperationException("containerd has not been started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(options.ContainerdPath))
        {
            throw new FileNotFoundException($"containerd not found at {options.ContainerdPath}; install the containerd package.", options.ContainerdPath);
        }

        Layout.EnsureSocketPathFits();
        var registries = ContainerdConfig.Write(options, Layout);
        channel = UnixSocketChannel.Create(Layout.Socket);
        Runtime = new CriRuntimeClient(channel);
        Images = new CriImageClient(channel);
        if (registries.Mirrors.Values.Any(m => m.Rewrites.Count > 0))
        {
            Images = new MirrorRewriteImageService(Images, registries, Importer, timeProvider, logger);
        }

        if (TryAdopt() is { } adopted)
        {
            LogAdopted(logger, adopted.Id, Endpoint);
            lock (processLock)
            {
                process = adopted;
            }
        }
        else
        {
            StartProcess();
        }

        var ready = WaitReadyAsync(cancellationToken);
        SandboxImageReady = EnsureSandboxImageAsync(ready, stopping.Token);
        await ready;
        watchTask = WatchAsync(stopping.Token);
    }

    /// <summary>Stops containerd: SIGTERM, then SIGKILL after the stop timeout. Containers keep running under their shims.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        // An import under way ends (cancelled) before the containerd it talks to.
        await Task.WhenAny(SandboxImageReady);
        if (watchTask is not null)
        {
            await watchTask;
        }

        Process? current;
        lock (processLock)
        {
            current = process;
            process = null;
        }

        if (current is not null)
        {
            await TerminateAsync(current, cancellationToken);
            current.Dispose();
        }

        TryDelete(Layout.PidFile);
    }

    public async ValueTask DisposeAsync()
    {
        if (!stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None);
        }

        channel?.Dispose();
        stopping.Dispose();
    }

    private void StartProcess()
    {
        // A socket left by a crashed containerd would make the new one fail to listen.
        TryDelete(Layout.Socket);
        TryDelete(Layout.TtrpcSocket);

        // The shell only sets up the log redirection, then becomes containerd (same PID). setsid gives containerd a
        // session of its own, so a Ctrl+C meant for the server does not reach it: the supervisor stops it in order.
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList =
            {
                "-c",
                "if command -v setsid >/dev/null; then exec setsid \"$0\" --config \"$1\" >>\"$2\" 2>&1 </dev/null; fi; "
                    + "exec \"$0\" --config \"$1\" >>\"$2\" 2>&1 </dev/null",
                options.ContainerdPath, Layout.ConfigFile, Layout.LogFile,
            },
            UseShellExecute = false,
        };
        var started = Process.Start(start) ?? throw new InvalidOperationException("Could not start containerd.");
        File.WriteAllText(Layout.PidFile, started.Id.ToString(CultureInfo.InvariantCulture));
        lock (processLock)
        {
            process = started;
        }

        LogStarted(logger, started.Id, Endpoint);
    }

    /// <summary>A containerd left running with this data dir's config (the agent restarted) is reused.</summary>
    private Process? TryAdopt()
    {
        try
        {
            if (!File.Exists(Layout.PidFile)
                || !int.TryParse(File.ReadAllText(Layout.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }

            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            if (!cmdline.Contains(Layout.ConfigFile, StringComparison.Ordinal) || !cmdline.StartsWith(options.ContainerdPath, StringComparison.Ordinal))
            {
                return null;
            }

            return Process.GetProcessById(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.StartTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
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
                throw new ContainerRuntimeUnavailableException(
                    $"containerd exited during start{(current is null ? "" : $" with code {current.ExitCode}")}; see {Layout.LogFile}.", last);
            }

            // containerd makes its socket once it serves; until then a call only fails, and each failure throws (and
            // formats a stack trace) several times over on its way up, which costs a starting node more than a stat.
            if (!File.Exists(Layout.Socket))
            {
                await DelayAsync(TimeSpan.FromMilliseconds(2), linked.Token, timeout.Token, cancellationToken, last);
                continue;
            }

            try
            {
                var version = await Runtime.VersionAsync(linked.Token);
                LogReady(logger, version.RuntimeName, version.RuntimeVersion, version.RuntimeApiVersion);
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
                || (e.StatusCode == StatusCode.Unknown && e.Status.Detail.Contains("not initialized", StringComparison.Ordinal)))
            {
                // The CRI plugin answers "server is not initialized yet" while it loads its state after a restart.
                last = e;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new ContainerRuntimeUnavailableException($"containerd did not answer within {options.StartTimeout}; see {Layout.LogFile}.", last);
            }

            // containerd serves within a few tens of milliseconds; a node's start waits on this, so ask often.
            await DelayAsync(TimeSpan.FromMilliseconds(10), linked.Token, timeout.Token, cancellationToken, last);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken linked, CancellationToken timeout, CancellationToken cancellationToken, Exception? last)
    {
        try
        {
            await Task.Delay(delay, timeProvider, linked);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ContainerRuntimeUnavailableException($"containerd did not answer within {options.StartTimeout}; see {Layout.LogFile}.", last);
        }
    }

    /// <summary>
    /// Imports the sandbox image unless containerd has it. On a first start its archive is built while containerd comes
    /// up: only the import needs containerd.
    /// </summary>
    private async Task EnsureSandboxImageAsync(Task containerdReady, CancellationToken cancellationToken)
    {
        var archive = Path.Combine(Layout.ImagesDir, SandboxArchiveName);
        var built = false;
        if (!File.Exists(archive))
        {
            await Task.Run(() => WriteSandboxArchiveAsync(archive, cancellationToken), cancellationToken);
            built = true;
        }

        await containerdReady;
        if (await Images.ImageStatusAsync(new ImageSpec { Image = options.SandboxImage }, cancellationToken) is not null)
        {
            return;
        }

        if (!built)
        {
            await WriteSandboxArchiveAsync(archive, cancellationToken);
        }

        await Importer.ImportAndWaitAsync(archive, Images, timeProvider, cancellationToken);
        LogSandboxImported(logger, options.SandboxImage);
    }

    private async Task WriteSandboxArchiveAsync(string archive, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Layout.ImagesDir);
        var pause = await OciImageBuilder.BuildPauseAsync(options.SandboxImage, options.BusyboxPath, cancellationToken);
        await OciImageBuilder.WriteOciArchiveAsync(archive, [pause], cancellationToken);
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
                await current.WaitForExitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            LogExited(logger, current.Id, SafeExitCode(current), backoff);
            try
            {
                await Task.Delay(backoff, timeProvider, stoppingToken);
                StartProcess();
                Interlocked.Increment(ref restartCount);
                await WaitReadyAsync(stoppingToken);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ContainerRuntimeUnavailableException or IOException or InvalidOperationException
                or System.ComponentModel.Win32Exception)
            {
                LogRestartFailed(logger, e);
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
            await target.WaitForExitAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            target.Kill();
            await target.WaitForExitAsync(CancellationToken.None);
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

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started containerd (pid {Pid}) at {Endpoint}")]
    private static partial void LogStarted(ILogger logger, int pid, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reusing running containerd (pid {Pid}) at {Endpoint}")]
    private static partial void LogAdopted(ILogger logger, int pid, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container runtime ready: {Name} {Version} (CRI {ApiVersion})")]
    private static partial void LogReady(ILogger logger, string name, string version, string apiVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported sandbox image {Image}")]
    private static partial void LogSandboxImported(ILogger logger, string image);

    [LoggerMessage(Level = LogLevel.Warning, Message = "containerd (pid {Pid}) exited with code {ExitCode}; restarting in {Backoff}")]
    private static partial void LogExited(ILogger logger, int pid, int exitCode, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Error, Message = "Restarting containerd failed")]
    private static partial void LogRestartFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping containerd (pid {Pid})")]
    private static partial void LogStopping(ILogger logger, int pid);
}
