using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Kubesharp.Commands;
using Kubesharp.Ingress;
using Microsoft.Extensions.Logging;

namespace Kubesharp.IngressProxy;

/// <summary>
/// Runs the built-in ingress controller as a child process (<c>kubesharp ingress-proxy</c>) with the socket engine's
/// inline completions switched on for it alone: each socket read and write then continues on the thread that
/// polled it instead of being handed to the thread pool, which was most of the proxy's CPU per request. The
/// setting is process-wide, and the API server's request handling may block (storage, admission), so it stays off
/// there. The child's standard input is a pipe from this process: closing it stops the child, and so does this
/// process ending in any way (the kernel closes the pipe), where a parent-death signal would follow the thread
/// that started the child, which the thread pool may retire. A child that ends on its own is started again.
/// </summary>
internal sealed partial class IngressProxyProcess(IngressOptions options, string kubeconfig, IReadOnlyList<string> logArguments, ILogger logger, TimeProvider time)
{
    /// <summary>The runtime's switch for inline socket completions, read once when the first socket is used.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>The runtime's count of socket polling threads (with inline completions, one per core by default).</summary>
    public const string SocketThreadsVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);

    /// <summary>Runs the child until <paramref name="cancellationToken"/> is cancelled, then stops it.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            Process? started;
            try
            {
                started = Process.Start(StartInfo());
            }
            catch (Win32Exception e)
            {
                LogStartFailed(logger, e.Message);
                return;
            }

            using var process = started ?? throw new InvalidOperationException("Could not start the ingress proxy.");
            LogStarted(logger, process.Id);
            var startedAt = time.GetTimestamp();
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await StopAsync(process).ConfigureAwait(false);
                return;
            }

            if (process.ExitCode == IngressProxyCommand.ListenFailedExitCode)
            {
                // The child said why; a taken port stays taken, as when the proxy ran inside the server.
                return;
            }

            // Quick failures back off; one that ran a while starts again at once.
            delay = time.GetElapsedTime(startedAt) > MaxRestartDelay ? TimeSpan.FromSeconds(1) : delay;
            LogExited(logger, process.ExitCode, delay.TotalSeconds);
            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRestartDelay.Ticks));
        }
    }

    internal ProcessStartInfo StartInfo()
    {
        // A native or single-file build is its own executable; a JIT build runs as `dotnet kubesharp.dll`.
        var path = Environment.ProcessPath ?? throw new InvalidOperationException("The executable's path is unknown.");
        var start = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardInput = true };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet")
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kubesharp.dll"));
        }

        start.ArgumentList.Add(IngressProxyCommand.Name);
        start.ArgumentList.Add("--kubeconfig");
        start.ArgumentList.Add(kubeconfig);
        start.ArgumentList.Add("--http-endpoint");
        start.ArgumentList.Add(options.HttpEndpoint.ToString());
        start.ArgumentList.Add("--https-endpoint");
        start.ArgumentList.Add(options.HttpsEndpoint.ToString());
        foreach (var address in options.StatusAddresses)
        {
            start.ArgumentList.Add("--status-address");
            start.ArgumentList.Add(address);
        }

        foreach (var argument in logArguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[InlineCompletionsVariable] = "1";
        // With the proxy's whole work on its polling threads, half the cores' worth leaves the rest to the backends and
        // clients on the node: on 2 cores one thread took 20% less CPU per request than two, for 10% more requests/s.
        // A count the server was given is kept.
        if (!start.Environment.ContainsKey(SocketThreadsVariable))
        {
            start.Environment[SocketThreadsVariable] = Math.Max(1, Environment.ProcessorCount / 2).ToString(CultureInfo.InvariantCulture);
        }

        return start;
    }

    private async Task StopAsync(Process process)
    {
        try
        {
            process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(StopTimeout, time);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            LogKilled(logger, process.Id, StopTimeout.TotalSeconds);
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The ingress proxy could not be started: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ingress proxy started as process {Pid}")]
    private static partial void LogStarted(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ingress proxy ended with exit code {ExitCode}; starting it again in {Seconds} s")]
    private static partial void LogExited(ILogger logger, int exitCode, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The ingress proxy (process {Pid}) did not stop within {Seconds} s of being asked; killed")]
    private static partial void LogKilled(ILogger logger, int pid, double seconds);
}
