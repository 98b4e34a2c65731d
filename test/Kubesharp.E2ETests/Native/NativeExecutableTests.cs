using System.Globalization;

namespace Kubesharp.E2ETests.Native;

/// <summary>
/// The ahead-of-time compiled kubesharp executable runs the control plane the JIT build runs: it becomes ready and the
/// real kubectl reads, creates, applies, prints and deletes against it, with controllers and the scheduler at work.
/// </summary>
public sealed class NativeExecutableTests
{
    [NativeFact]
    public async Task Server_NativeExecutable_ServesKubectlSmokeSet()
    {
        Assert.True(NativeExecutable.Missing() is null, NativeExecutable.Missing());
        using var publishing = new CancellationTokenSource(TimeSpan.FromMinutes(40));
        var executable = await NativeExecutable.GetAsync(publishing.Token);

        var server = new KubectlServer();
        var process = await KubectlServer.StartAsync(server.DataDir, ["--disable-agent", "--simulated-nodes", "2"], executable);
        try
        {
            // Compiled ahead of time: the process carries no JIT runtime.
            var maps = await File.ReadAllTextAsync($"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/maps");
            Assert.DoesNotContain("libcoreclr.so", maps, StringComparison.Ordinal);
            Assert.DoesNotContain("libclrjit.so", maps, StringComparison.Ordinal);

            var kubectl = new Kubectl(server);
            Assert.Equal("ok", (await kubectl.RunAsync("get", "--raw", "/readyz")).Ok().Output.Trim());
            Assert.Contains("kube-system", (await kubectl.RunAsync("get", "namespaces")).Ok().Output, StringComparison.Ordinal);
            Assert.Contains("deployments", (await kubectl.RunAsync("api-resources")).Ok().Output, StringComparison.Ordinal);

            (await kubectl.RunAsync("create", "namespace", "native")).Ok();
            (await kubectl.RunAsync("-n", "native", "create", "configmap", "settings", "--from-literal=mode=native")).Ok();
            Assert.Equal("native", (await kubectl.RunAsync("-n", "native", "get", "configmap", "settings", "-o", "jsonpath={.data.mode}")).Ok().Output);

            const string Deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: native}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec: {containers: [{name: web, image: busybox}]}
                """;
            Assert.Contains("deployment.apps/web created", (await kubectl.RunAsync(["apply", "-f", "-"], Deployment, null)).Ok().Output, StringComparison.Ordinal);
            (await kubectl.RunAsync("-n", "native", "wait", "deployment/web", "--for=condition=Available", "--timeout=90s")).Ok();
            var pods = (await kubectl.RunAsync("-n", "native", "get", "pods", "-l", "app=web")).Ok().Output;
            Assert.Equal(2, pods.Split('\n').Count(line => line.StartsWith("web-", StringComparison.Ordinal) && line.Contains("Running", StringComparison.Ordinal)));
            Assert.Contains("unchanged", (await kubectl.RunAsync(["apply", "-f", "-"], Deployment, null)).Ok().Output, StringComparison.Ordinal);

            (await kubectl.RunAsync("-n", "native", "delete", "deployment", "web", "--wait=true")).Ok();
            (await kubectl.RunAsync("delete", "namespace", "native", "--wait=true", "--timeout=90s")).Ok();
            var gone = await kubectl.RunAsync("get", "namespace", "native");
            Assert.NotEqual(0, gone.ExitCode);
            Assert.Contains("NotFound", gone.Error, StringComparison.Ordinal);
        }
        finally
        {
            await KubectlServer.StopAsync(process);
            await server.DisposeAsync();
        }
    }
}
