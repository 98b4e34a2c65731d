using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp server</c> process, killed with SIGKILL while kubectl creates objects concurrently:
/// after a restart on the same data directory (and the same SQLite file or etcd) every create kubectl saw
/// succeed is there.
/// </summary>
public sealed class ServerCrashTests : IDisposable
{
    private const int Writers = 6;
    private const int KillRounds = 3;

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-crash-" + Guid.NewGuid().ToString("N"));

    private string[] datastore = [];

    [Fact]
    public Task Server_KilledDuringConcurrentCreates_KeepsEveryAcknowledgedObject() => KillDuringCreatesAsync();

    [Fact]
    public async Task Server_OnEtcd_KilledDuringConcurrentCreates_KeepsEveryAcknowledgedObject()
    {
        // etcd itself keeps running: the server is what dies, with writes in flight to it.
        var etcd = new Kubesharp.Storage.Tests.Etcd.EtcdServer();
        await etcd.InitializeAsync();
        try
        {
            datastore = ["--datastore-endpoint", "etcd://" + etcd.Endpoint];
            await KillDuringCreatesAsync();
        }
        finally
        {
            await etcd.DisposeAsync();
        }
    }

    private async Task KillDuringCreatesAsync()
    {
        var acknowledged = new ConcurrentBag<string>();
        for (var round = 0; round < KillRounds; round++)
        {
            using var server = await StartServerAsync();
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, Writers)
                .Select(writer => Task.Run(() => CreateUntilStoppedAsync(round, writer, acknowledged, stop.Token)))
                .ToArray();

            // Let some creates succeed, then kill the server in the middle of the others.
            var deadline = Stopwatch.StartNew();
            var before = acknowledged.Count;
            while (acknowledged.Count < before + 12 && deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(50);
            }

            server.Kill();
            await server.WaitForExitAsync();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        using var restarted = await StartServerAsync();
        var listed = await RunKubectlAsync(["get", "configmaps", "-n", "default", "-o", "name"], stdin: null, CancellationToken.None);
        Assert.Equal(0, listed.ExitCode);
        var present = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Replace("configmap/", string.Empty, StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        Assert.True(acknowledged.Count >= KillRounds * 12, $"only {acknowledged.Count} creates were acknowledged");
        var missing = acknowledged.Where(name => !present.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"acknowledged but missing after restart: {string.Join(", ", missing)}");
        restarted.Kill();
        await restarted.WaitForExitAsync();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task CreateUntilStoppedAsync(int round, int writer, ConcurrentBag<string> acknowledged, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 1000 && !cancellationToken.IsCancellationRequested; i++)
        {
            var name = $"crash-{round}-{writer}-{i}";
            var manifest = $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","namespace":"default"},"data":{"n":"{{{i}}}"}}""";
            var result = await RunKubectlAsync(["create", "-f", "-", "--request-timeout=20s"], manifest, CancellationToken.None);
            if (result.ExitCode == 0)
            {
                acknowledged.Add(name);
            }
            else
            {
                // The server is gone: a create that failed was not acknowledged and may or may not exist.
                return;
            }
        }
    }

    private Task<Process> StartServerAsync() => KubectlServer.StartAsync(dataDir, ["--disable-agent", .. datastore]);

    private async Task<Kubectl.Result> RunKubectlAsync(string[] args, string? stdin, CancellationToken cancellationToken)
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

        info.Environment["KUBECONFIG"] = Path.Combine(dataDir, "kubeconfig.yaml");
        info.Environment["HOME"] = dataDir;
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return new Kubectl.Result(-1, string.Empty, "timed out");
        }

        return new Kubectl.Result(process.ExitCode, await output, await error);
    }
}
