using System.Diagnostics;
using Kubesharp.E2ETests.Support;

namespace Kubesharp.E2ETests;

/// <summary>Runs a program (kubectl, the built kubesharp) to its end, as a user at a shell would.</summary>
public static class ChildProcess
{
    /// <summary>Runs the <c>kubesharp</c> executable (<see cref="KubesharpExecutable"/>) with <paramref name="args"/> to its end.</summary>
    public static Task<Kubectl.Result> RunKubesharpAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var command = KubesharpExecutable.Command(args);
        return RunAsync(command[0], command[1..], environment, timeout: timeout);
    }

    /// <summary>Runs <paramref name="program"/> with standard input closed (or fed <paramref name="stdin"/>); one that
    /// outlives <paramref name="timeout"/> (default two minutes) is killed with its children, and that fails the caller.</summary>
    public static async Task<Kubectl.Result> RunAsync(string program, IEnumerable<string> args, IDictionary<string, string>? environment = null, string? stdin = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(program)
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

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', info.ArgumentList)} did not finish within {(timeout ?? TimeSpan.FromSeconds(120)).TotalSeconds} s: {await error}");
        }

        return new Kubectl.Result(process.ExitCode, await output, await error);
    }
}
