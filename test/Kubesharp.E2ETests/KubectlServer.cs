using System.Diagnostics;
using Kubesharp.E2ETests.Support;
using Kubesharp.Storage.Tests;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp server</c> process, started the way a user starts it, on a random loopback port
/// with SQLite in a temp directory: control plane, scheduler and controllers, no agent, and
/// <see cref="SimulatedNodes"/> simulated nodes to run pods on.
/// </summary>
public sealed class KubectlServer : IAsyncLifetime
{
    public const int SimulatedNodes = 5;

    private Process? _process;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "kubesharp-e2e-" + Guid.NewGuid().ToString("N"));

    public string Kubeconfig => Path.Combine(DataDir, "kubeconfig.yaml");

    /// <summary>
    /// Writes a kubeconfig at <paramref name="path"/> that holds only this server, its CA and a user with
    /// <paramref name="user"/>'s fields (token, client-certificate, client-key…): kubectl as someone other than the admin.
    /// </summary>
    public async Task WriteUserKubeconfigAsync(string path, params (string Field, string Value)[] user)
    {
        var admin = await File.ReadAllTextAsync(Kubeconfig);
        var serverLine = admin.Split('\n').First(l => l.TrimStart().StartsWith("server:", StringComparison.Ordinal)).Trim();
        var fields = string.Join("\n", user.Select(f => $"    {f.Field}: {f.Value}"));
        await File.WriteAllTextAsync(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                {{serverLine}}
                certificate-authority: {{Path.Combine(DataDir, "server", "tls", "ca.crt")}}
            users:
            - name: u
              user:
            {{fields}}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            current-context: x
            """);
    }

    public async Task InitializeAsync()
    {
        _process = await StartAsync(DataDir, ["--disable-agent", "--simulated-nodes", SimulatedNodes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await StopAsync(_process);
        }

        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Starts <c>kubesharp server</c> with <paramref name="arguments"/> and waits until it says it is ready; each line of
    /// its standard output goes to <paramref name="output"/> too, in order, while it runs.
    /// </summary>
    public static async Task<Process> StartAsync(string dataDir, IEnumerable<string> arguments, System.Collections.Concurrent.ConcurrentQueue<string>? output = null)
    {
        var info = KubesharpExecutable.StartInfo(["server", "--data-dir", dataDir, "--https-port", LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);

        var process = Process.Start(info)!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output?.Enqueue(e.Data);
            }

            if (e.Data?.Contains("ready at", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && errors.Count < 50)
            {
                errors.Enqueue(e.Data);
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            // Exited can come before the last lines were read; WaitForExit() waits for the end of the streams.
            process.WaitForExit();
            ready.TrySetException(new InvalidOperationException("kubesharp server exited before it was ready: " + string.Join('\n', errors)));
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }

        return process;
    }

    /// <summary>The URL a server started on <paramref name="dataDir"/> serves, as its admin kubeconfig names it.</summary>
    public static string UrlOf(string dataDir)
    {
        var kubeconfig = File.ReadAllText(Path.Combine(dataDir, "kubeconfig.yaml"));
        return kubeconfig[(kubeconfig.IndexOf("server: ", StringComparison.Ordinal) + "server: ".Length)..].Split('\n')[0].Trim();
    }

    /// <summary>Stops the server with SIGTERM (as a user would), then kills it if it does not exit.</summary>
    public static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KubectlCollection : ICollectionFixture<KubectlServer>
{
    public const string Name = "kubectl";
}
