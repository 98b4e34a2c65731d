using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>Runs the real kubectl binary against a kubeconfig, to completion or as a long-running process the test stops.</summary>
public sealed class Kubectl(string kubeconfig, string cacheDir)
{
    public static bool Available => Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(d => File.Exists(Path.Combine(d, "kubectl"))) == true;

    public async Task<KubectlResult> RunAsync(string[] args, string? stdin = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, redirectStdin: stdin is not null);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish; stderr: {await stderr}");
        }

        return new KubectlResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts kubectl and streams its output lines; disposing the handle kills that one process.</summary>
    public KubectlProcess StartLongRunning(string[] args) => new(Start(args, redirectStdin: false));

    private Process Start(string[] args, bool redirectStdin)
    {
        var info = new ProcessStartInfo("kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--kubeconfig");
        info.ArgumentList.Add(kubeconfig);
        info.ArgumentList.Add("--cache-dir");
        info.ArgumentList.Add(cacheDir);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("kubectl did not start");
    }
}

public sealed record KubectlResult(int ExitCode, string Stdout, string Stderr);

public sealed class KubectlProcess : IDisposable
{
    private readonly Process process;
    private readonly Channel<string> lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder errors = new();

    internal KubectlProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                lines.Writer.TryComplete();
            }
            else
            {
                lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Errors
    {
        get
        {
            lock (errors)
            {
                return errors.ToString();
            }
        }
    }

    /// <summary>Reads output lines until one matches; fails with what was seen if the output ends or time runs out first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        var seen = new StringBuilder();
        try
        {
            await foreach (var line in lines.Reader.ReadAllAsync(limit.Token))
            {
                seen.AppendLine(line);
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new TimeoutException($"no matching output line; stdout: {seen}; stderr: {Errors}");
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }
}
