using System.Diagnostics;

namespace Kubesharp.E2ETests;

/// <summary>Runs the real kubectl binary against a server's kubeconfig.</summary>
public sealed class Kubectl(KubectlServer server)
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public Result Ok()
        {
            Assert.True(ExitCode == 0, $"kubectl failed ({ExitCode}): {Error}\n{Output}");
            return this;
        }
    }

    public Task<Result> RunAsync(params string[] args) => RunAsync(args, null, null);

    public async Task<Result> RunAsync(string[] args, string? stdin, IDictionary<string, string>? environment)
    {
        using var process = Start(args, environment);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Starts kubectl without waiting (for -w); the caller kills it by its own handle.</summary>
    public Process Start(string[] args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("kubectl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["KUBECONFIG"] = server.Kubeconfig;
        info.Environment["HOME"] = server.DataDir;
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        return Process.Start(info)!;
    }
}
