using System.Diagnostics;

namespace Kubesharp.E2ETests;

/// <summary>Runs the real kubectl binary (the one on PATH, or <paramref name="binary"/>) against a server's kubeconfig.</summary>
public sealed class Kubectl(KubectlServer server, string binary = "kubectl")
{
    /// <summary>
    /// The kubectl of one minor version (e.g. "1.27") installed beside the kubectl on PATH as <c>kubectl.1.27</c>, as the
    /// Google Cloud SDK package installs them; null when there is none.
    /// </summary>
    public static string? OfVersion(string version)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var onPath = new FileInfo(Path.Combine(directory, "kubectl"));
            if (!onPath.Exists)
            {
                continue;
            }

            var target = onPath.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath.FullName;
            var versioned = Path.Combine(Path.GetDirectoryName(target)!, "kubectl." + version);
            return File.Exists(versioned) ? versioned : null;
        }

        return null;
    }

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public Result Ok()
        {
            Assert.True(ExitCode == 0, $"kubectl failed ({ExitCode}): {Error}\n{Output}");
            return this;
        }
    }

    public Task<Result> RunAsync(params string[] args) => RunAsync(args, null, null);

    public Task<Result> RunAsync(string[] args, string? stdin, IDictionary<string, string>? environment) =>
        ChildProcess.RunAsync(binary, args, ChildEnvironment(environment), stdin);

    /// <summary>Starts kubectl without waiting (for -w); the caller kills it by its own handle.</summary>
    public Process Start(string[] args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(binary)
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

        foreach (var (key, value) in ChildEnvironment(environment))
        {
            info.Environment[key] = value;
        }

        return Process.Start(info)!;
    }

    // The server's kubeconfig, and a home of the test's own so kubectl's cache stays apart.
    private Dictionary<string, string> ChildEnvironment(IDictionary<string, string>? extra)
    {
        var environment = new Dictionary<string, string> { ["KUBECONFIG"] = server.Kubeconfig, ["HOME"] = server.DataDir };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }
}
