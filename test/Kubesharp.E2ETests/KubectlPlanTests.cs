using System.Diagnostics;
using Kubesharp.E2ETests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// <c>kubectl plan</c>: the real kubectl finds the plugin (the kubesharp executable linked as kubectl-plan on PATH)
/// and the plan comes from the real <c>kubesharp server --simulated-nodes 5</c>.
/// </summary>
[Collection(SimulatedClusterCollection.Name)]
public sealed class KubectlPlanTests(SimulatedCluster cluster) : IDisposable
{
    private const string Manifests = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              tolerations: [{key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}]
              containers: [{name: c, image: nginx, resources: {requests: {cpu: 100m}}}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: huge}
        spec:
          tolerations: [{key: kubesharp.io/simulated, operator: Exists, effect: NoSchedule}]
          containers: [{name: c, image: nginx, resources: {requests: {cpu: "64"}}}]
        """;

    private readonly string ns = "p" + Guid.NewGuid().ToString("N")[..10];
    private readonly string bin = Path.Combine(Path.GetTempPath(), "kubesharp-plugin-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(bin, recursive: true);

    [Fact]
    public async Task KubectlPlan_PluginOnPath_TableYamlAndAddedNodesWithoutCreatingAnything()
    {
        Directory.CreateDirectory(bin);
        File.CreateSymbolicLink(Path.Combine(bin, "kubectl-plan"), KubesharpExecutable.File);
        var file = Path.Combine(bin, "app.yaml");
        await File.WriteAllTextAsync(file, Manifests);

        var plugins = await KubectlAsync("plugin", "list");
        Assert.Contains(Path.Combine(bin, "kubectl-plan"), plugins.Output, StringComparison.Ordinal);

        var table = (await KubectlAsync("plan", "-f", file, "-n", ns)).Ok().Output.Split('\n');
        Assert.Matches(@"^POD\s+NODE\s+PREEMPTS\s+REASON$", table[0]);
        var web = table.Where(l => l.StartsWith("web-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, web.Count);
        Assert.All(web, l => Assert.Matches(@"^web-\w{5}\s+sim-node-\d\s+<none>", l));
        var huge = Assert.Single(table, l => l.StartsWith("huge ", StringComparison.Ordinal));
        Assert.Matches(@"^huge\s+<pending>\s+<none>\s+NodeResourcesFit: Insufficient cpu \(5 nodes\)$", huge);
        Assert.Contains(table, l => l.StartsWith("3 pod(s) on 5 node(s): 2 scheduled, 1 pending, 0 preempted.", StringComparison.Ordinal));

        var yaml = (await KubectlAsync("plan", "-f", file, "-n", ns, "-o", "yaml", "--add-nodes", "1", "--node-shape", "cpu=100,memory=64Gi")).Ok().Output;
        Assert.Contains("apiVersion: plan.kubesharp.io/v1\nkind: SchedulingPlan\n", yaml, StringComparison.Ordinal);
        var answer = Kubesharp.ApiMachinery.Serialization.YamlDecoder.Decode(yaml)!;
        var planned = answer["status"]!["pods"]!.AsArray().Single(p => (string?)p!["name"] == "huge")!;
        Assert.Equal("Scheduled", (string?)planned["phase"]);
        Assert.Equal("planned-node-1", (string?)planned["node"]);
        Assert.Equal(6L, (long?)answer["status"]!["nodes"]);

        var bad = await KubectlAsync("plan", "-f", file, "--add-nodes", "1", "--node-shape", "cpu=lots,memory=1Gi");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("Error from server (Invalid): SchedulingPlan.plan.kubesharp.io \"\" is invalid: spec.addNodes.capacity[cpu]", bad.Error, StringComparison.Ordinal);

        // Nothing was created.
        Assert.Equal("", (await cluster.KubectlAsync("get", "deployments,pods", "-n", ns, "-o", "name")).Ok().Output.Trim());
        Assert.Equal(5, (await cluster.KubectlAsync("get", "nodes", "-o", "name")).Ok().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    private async Task<Kubectl.Result> KubectlAsync(params string[] args)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["KUBECONFIG"] = cluster.Kubeconfig;
        info.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        using var process = Process.Start(info)!;
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
            return new Kubectl.Result(-1, await output, "timed out: " + await error);
        }

        return new Kubectl.Result(process.ExitCode, await output, await error);
    }
}
