using System.Diagnostics;

namespace Kubesharp.E2ETests.Addons;

/// <summary>
/// The real <c>kubesharp server</c> applies DATA/server/manifests as k3s does: a dropped manifest's objects appear,
/// a changed one updates them and deletes those it no longer holds, a removed one takes its objects away, a
/// <c>.skip</c> file and <c>--disable</c> leave theirs alone.
/// </summary>
public sealed class AddonManifestTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-addons-" + Guid.NewGuid().ToString("N"));

    private string Manifests => Path.Combine(dataDir, "server", "manifests");

    [Fact]
    public async Task ManifestsFolder_DropChangeRemove_ObjectsFollowTheFiles()
    {
        Directory.CreateDirectory(Manifests);
        await File.WriteAllTextAsync(Path.Combine(Manifests, "demo.yaml"), ConfigMaps(("addon-demo", "one")));
        await File.WriteAllTextAsync(Path.Combine(Manifests, "skipped.yaml"), ConfigMaps(("addon-skipped", "x")));
        await File.WriteAllTextAsync(Path.Combine(Manifests, "skipped.yaml.skip"), "");
        await File.WriteAllTextAsync(Path.Combine(Manifests, "extra.yaml"), ConfigMaps(("addon-extra", "x")));
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var server = await KubectlServer.StartAsync(dataDir, ["--disable-agent", "--disable", "local-storage", "--disable", "extra"], output);
        try
        {
            // Applied at start, into kube-system, marked with its file and the add-on manager.
            await WaitForAsync(async () => await ValueAsync("addon-demo") == "one", "addon-demo applied");
            // Only once the server has said it is ready: add-ons do not compete with its start.
            await WaitForAsync(() => Task.FromResult(output.Any(l => l.Contains("Applied add-on manifest demo.yaml", StringComparison.Ordinal))), "the applied manifest's log line");
            var lines = output.ToList();
            Assert.True(
                lines.FindIndex(l => l.Contains("ready at", StringComparison.Ordinal)) < lines.FindIndex(l => l.Contains("Applied add-on manifest demo.yaml", StringComparison.Ordinal)),
                "an add-on was applied before the server said it was ready:\n" + string.Join('\n', lines));
            var marks = (await KubectlAsync("get", "configmap", "addon-demo", "-n", "kube-system", "-o",
                "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by} {.metadata.annotations.addons\\.kubesharp\\.io/source} {.metadata.managedFields[*].manager}")).Ok().Output;
            Assert.Equal("kubesharp-addons demo.yaml kubesharp-addons", marks.Trim());

            // Dropped in while the server runs.
            await File.WriteAllTextAsync(Path.Combine(Manifests, "later.json"), """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"addon-later","namespace":"default"},"data":{"key":"json"}}""");
            await WaitForAsync(async () => await ValueAsync("addon-later", "default") == "json", "later.json applied");

            // Changed: the object is updated and a second one appears.
            await File.WriteAllTextAsync(Path.Combine(Manifests, "demo.yaml"), ConfigMaps(("addon-demo", "two"), ("addon-demo-2", "new")));
            await WaitForAsync(async () => await ValueAsync("addon-demo") == "two" && await ValueAsync("addon-demo-2") == "new", "demo.yaml's change applied");

            // Changed again without the second object: it is deleted.
            await File.WriteAllTextAsync(Path.Combine(Manifests, "demo.yaml"), ConfigMaps(("addon-demo", "three")));
            await WaitForAsync(async () => await ValueAsync("addon-demo") == "three" && await ValueAsync("addon-demo-2") is null, "addon-demo-2 pruned");

            // Removed: its objects go.
            File.Delete(Path.Combine(Manifests, "demo.yaml"));
            await WaitForAsync(async () => await ValueAsync("addon-demo") is null, "demo.yaml's objects deleted");
            Assert.Equal("json", await ValueAsync("addon-later", "default"));

            // Skipped and disabled manifests were never applied; the disabled built-in is absent, the others run.
            Assert.Null(await ValueAsync("addon-skipped"));
            Assert.Null(await ValueAsync("addon-extra"));
            await WaitForAsync(async () => (await KubectlAsync("get", "service", "kube-dns", "-n", "kube-system")).ExitCode == 0, "the kube-dns Service");
            var classes = (await KubectlAsync("get", "storageclass", "-o", "name")).Ok().Output;
            Assert.DoesNotContain("local-path", classes, StringComparison.Ordinal);
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }
    }

    [Fact]
    public async Task ManifestRemovedWhileStopped_BuiltInsDisabledAfterwards_ObjectsDeletedAtStart()
    {
        Directory.CreateDirectory(Manifests);
        await File.WriteAllTextAsync(Path.Combine(Manifests, "gone.yml"), ConfigMaps(("addon-gone", "x")));
        var server = await KubectlServer.StartAsync(dataDir, ["--disable-agent"]);
        try
        {
            await WaitForAsync(async () => await ValueAsync("addon-gone") == "x", "gone.yml applied");
            await WaitForAsync(async () => (await KubectlAsync("get", "storageclass", "local-path")).ExitCode == 0, "the local-path StorageClass");
            await WaitForAsync(async () => (await KubectlAsync("get", "service", "kube-dns", "-n", "kube-system")).ExitCode == 0, "the kube-dns Service");
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }

        File.Delete(Path.Combine(Manifests, "gone.yml"));
        await File.WriteAllTextAsync(Path.Combine(Manifests, "marker.yaml"), ConfigMaps(("addon-marker", "x")));
        server = await KubectlServer.StartAsync(dataDir, ["--disable-agent", "--disable", "coredns", "--disable", "local-storage"]);
        try
        {
            // The record of what gone.yml created outlives the server: its object is deleted at the next start.
            await WaitForAsync(async () => await ValueAsync("addon-gone") is null && await ValueAsync("addon-marker") == "x", "gone.yml's objects deleted");
            // Built-ins created on the first start are removed once disabled.
            await WaitForAsync(async () => (await KubectlAsync("get", "service", "kube-dns", "-n", "kube-system")).ExitCode != 0, "the kube-dns Service removed");
            await WaitForAsync(async () => (await KubectlAsync("get", "storageclass", "local-path")).ExitCode != 0, "the local-path StorageClass removed");
        }
        finally
        {
            await KubectlServer.StopAsync(server);
        }
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

    private static string ConfigMaps(params (string Name, string Value)[] maps) =>
        string.Join("---\n", maps.Select(m => $"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {m.Name}
            data:
              key: {m.Value}

            """));

    private async Task<string?> ValueAsync(string name, string @namespace = "kube-system")
    {
        var result = await KubectlAsync("get", "configmap", name, "-n", @namespace, "-o", "jsonpath={.data.key}");
        return result.ExitCode == 0 ? result.Output.Trim() : result.Error.Contains("NotFound", StringComparison.Ordinal) ? null : throw new InvalidOperationException(result.Error);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, $"timed out waiting for {what}");
            await Task.Delay(250);
        }
    }

    private Task<Kubectl.Result> KubectlAsync(params string[] args) =>
        ChildProcess.RunAsync("kubectl", ["--kubeconfig", Path.Combine(dataDir, "kubeconfig.yaml"), .. args], new Dictionary<string, string> { ["HOME"] = dataDir });
}
