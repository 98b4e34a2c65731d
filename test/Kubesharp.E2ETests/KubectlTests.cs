using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests;

[Collection(KubectlCollection.Name)]
public sealed class KubectlTests(KubectlServer server) : IDisposable
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "e" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-files").FullName;
    private bool _namespaceCreated;

    private const string Manifest = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          labels: {app: web}
        data:
          mode: fast
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              tolerations:
              - {key: kubesharp.io/simulated, operator: Exists}
              containers:
              - name: web
                image: nginx:1.25
                ports:
                - containerPort: 80
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          labels: {app: web}
        spec:
          selector: {app: web}
          ports:
          - port: 80
        """;

    private async Task<Kubectl.Result> K(params string[] args) => await _kubectl.RunAsync(args);

    private async Task NamespaceAsync()
    {
        if (!_namespaceCreated)
        {
            // kubectl's generator verbs (create namespace, create configmap) send protobuf bodies; files are sent as JSON.
            (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();
            _namespaceCreated = true;
        }
    }

    private async Task<string> WriteAsync(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    private Task<Kubectl.Result> CreateConfigMapAsync(string name) =>
        _kubectl.RunAsync(["create", "-n", _ns, "-f", "-"], $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n", null);

    private async Task ApplyManifestAsync()
    {
        await NamespaceAsync();
        (await K("apply", "-n", _ns, "-f", await WriteAsync("manifest.yaml", Manifest))).Ok();
    }

    [Fact]
    public async Task ApiResources_ListsBuiltinResources()
    {
        var result = (await K("api-resources")).Ok();
        Assert.Contains("deployments", result.Output, StringComparison.Ordinal);
        Assert.Contains("deploy", result.Output, StringComparison.Ordinal);
        Assert.Contains("pods", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetNamespaces_ShowsSystemNamespaces()
    {
        var result = (await K("get", "ns")).Ok();
        Assert.Contains("kube-system", result.Output, StringComparison.Ordinal);
        Assert.StartsWith("NAME", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyMultiDocument_Twice_SecondIsUnchanged()
    {
        await NamespaceAsync();
        var file = await WriteAsync("manifest.yaml", Manifest);
        var first = (await K("apply", "-n", _ns, "-f", file)).Ok();
        Assert.Contains("deployment.apps/web created", first.Output, StringComparison.Ordinal);
        Assert.Contains("configmap/settings created", first.Output, StringComparison.Ordinal);
        var second = (await K("apply", "-n", _ns, "-f", file)).Ok();
        Assert.Contains("deployment.apps/web unchanged", second.Output, StringComparison.Ordinal);
        Assert.Contains("service/web unchanged", second.Output, StringComparison.Ordinal);
        var changed = (await K("apply", "-n", _ns, "-f", await WriteAsync("changed.yaml", Manifest.Replace("nginx:1.25", "nginx:1.26", StringComparison.Ordinal)))).Ok();
        Assert.Contains("deployment.apps/web configured", changed.Output, StringComparison.Ordinal);
        var image = (await K("get", "deploy", "web", "-n", _ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}")).Ok();
        Assert.Equal("nginx:1.26", image.Output);
    }

    [Fact]
    public async Task ApplyKustomize_Twice_SecondIsUnchanged()
    {
        await NamespaceAsync();
        var dir = Path.Combine(_dir, "kustomize");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "resources.yaml"), Manifest);
        await File.WriteAllTextAsync(Path.Combine(dir, "kustomization.yaml"), $"namespace: {_ns}\ncommonLabels:\n  team: blue\nresources:\n- resources.yaml\n");
        (await K("apply", "-k", dir)).Ok();
        var second = (await K("apply", "-k", dir)).Ok();
        Assert.Contains("configmap/settings unchanged", second.Output, StringComparison.Ordinal);
        var labels = (await K("get", "cm", "settings", "-n", _ns, "-o", "jsonpath={.metadata.labels.team}")).Ok();
        Assert.Equal("blue", labels.Output);
    }

    [Fact]
    public async Task ServerSideApply_CreatesThenIsIdempotent()
    {
        await NamespaceAsync();
        var file = await WriteAsync("ssa.yaml", Manifest);
        (await K("apply", "--server-side", "-n", _ns, "-f", file)).Ok();
        var second = (await K("apply", "--server-side", "-n", _ns, "-f", file)).Ok();
        Assert.Contains("serverside-applied", second.Output, StringComparison.Ordinal);
        var managers = (await K("get", "deploy", "web", "-n", _ns, "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")).Ok();
        Assert.Contains("kubectl", managers.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOutputFormats_Work()
    {
        await ApplyManifestAsync();
        var wide = (await K("get", "deploy", "-n", _ns, "-o", "wide")).Ok();
        Assert.Contains("UP-TO-DATE", wide.Output, StringComparison.Ordinal);
        Assert.Contains("nginx:1.25", wide.Output, StringComparison.Ordinal);
        Assert.Contains("app=web", wide.Output, StringComparison.Ordinal);
        var yaml = (await K("get", "deploy", "web", "-n", _ns, "-o", "yaml")).Ok();
        Assert.Contains("kind: Deployment", yaml.Output, StringComparison.Ordinal);
        var json = JsonNode.Parse((await K("get", "cm", "settings", "-n", _ns, "-o", "json")).Ok().Output)!;
        Assert.Equal("fast", (string?)json["data"]!["mode"]);
        var custom = (await K("get", "svc", "-n", _ns, "-o", "custom-columns=NAME:.metadata.name,PORT:.spec.ports[0].port")).Ok();
        Assert.Contains("web    80", custom.Output, StringComparison.Ordinal);
        var byLabel = (await K("get", "all", "-n", _ns, "-l", "app=web", "-o", "name")).Ok();
        Assert.Contains("deployment.apps/web", byLabel.Output, StringComparison.Ordinal);
        Assert.Contains("service/web", byLabel.Output, StringComparison.Ordinal);
        var byField = (await K("get", "cm", "-n", _ns, "--field-selector", "metadata.name=settings", "-o", "name")).Ok();
        Assert.Equal("configmap/settings", byField.Output.Trim());
        var chunked = (await K("get", "cm", "-A", "--chunk-size=1", "-o", "name")).Ok();
        Assert.Contains("configmap/settings", chunked.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_Deployment_ShowsDetails()
    {
        await ApplyManifestAsync();
        var result = (await K("describe", "deployment", "web", "-n", _ns)).Ok();
        Assert.Contains("Replicas:", result.Output, StringComparison.Ordinal);
        Assert.Contains("nginx:1.25", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_DeploymentWithProjectedTokenAndConfigMapVolumes_ShowsVolumes()
    {
        // kubectl reads the token's expiry and the volumes' modes without checking for them: they must be defaulted.
        await NamespaceAsync();
        const string containers = "      containers:\n      - name: web\n";
        var manifest = Manifest.Replace(containers,
            "      volumes:\n      - name: token\n        projected:\n          sources:\n          - serviceAccountToken: {path: token, audience: vault}\n" +
            "      - name: settings\n        configMap: {name: settings}\n" + containers, StringComparison.Ordinal);
        Assert.NotEqual(Manifest, manifest);
        (await K("apply", "-n", _ns, "-f", await WriteAsync("volumes.yaml", manifest))).Ok();

        var result = (await K("describe", "deployment", "web", "-n", _ns)).Ok();

        Assert.Matches(@"token:\s+Type:\s+Projected", result.Output);
        Assert.Matches(@"TokenExpirationSeconds:\s+3600", result.Output);
        Assert.Matches(@"settings:\s+Type:\s+ConfigMap", result.Output);
        Assert.Matches(@"Name:\s+settings", result.Output);
    }

    [Fact]
    public async Task PatchAllThreeTypes_LabelAnnotateScale()
    {
        await ApplyManifestAsync();
        (await K("patch", "cm", "settings", "-n", _ns, "--type=merge", "-p", """{"data":{"mode":"slow"}}""")).Ok();
        (await K("patch", "cm", "settings", "-n", _ns, "--type=json", "-p", """[{"op":"add","path":"/data/extra","value":"1"}]""")).Ok();
        (await K("patch", "deploy", "web", "-n", _ns, "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}""")).Ok();
        var cm = JsonNode.Parse((await K("get", "cm", "settings", "-n", _ns, "-o", "json")).Ok().Output)!;
        Assert.Equal("slow", (string?)cm["data"]!["mode"]);
        Assert.Equal("1", (string?)cm["data"]!["extra"]);
        var deploy = JsonNode.Parse((await K("get", "deploy", "web", "-n", _ns, "-o", "json")).Ok().Output)!;
        var containers = deploy["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Single(containers);
        Assert.Equal("nginx:1.27", (string?)containers[0]!["image"]);
        Assert.Equal(80, (int?)containers[0]!["ports"]![0]!["containerPort"]);

        (await K("label", "cm", "settings", "-n", _ns, "tier=backend")).Ok();
        Assert.NotEqual(0, (await K("label", "cm", "settings", "-n", _ns, "tier=frontend")).ExitCode);
        (await K("label", "cm", "settings", "-n", _ns, "tier=frontend", "--overwrite")).Ok();
        (await K("annotate", "cm", "settings", "-n", _ns, "note=one")).Ok();
        (await K("annotate", "cm", "settings", "-n", _ns, "note=two", "--overwrite")).Ok();
        var labeled = JsonNode.Parse((await K("get", "cm", "settings", "-n", _ns, "-o", "json")).Ok().Output)!;
        Assert.Equal("frontend", (string?)labeled["metadata"]!["labels"]!["tier"]);
        Assert.Equal("two", (string?)labeled["metadata"]!["annotations"]!["note"]);

        (await K("scale", "deploy", "web", "-n", _ns, "--replicas=4")).Ok();
        Assert.Equal("4", (await K("get", "deploy", "web", "-n", _ns, "-o", "jsonpath={.spec.replicas}")).Ok().Output);
    }

    [Fact]
    public async Task Edit_WithEditorScript_ChangesObject()
    {
        await ApplyManifestAsync();
        var editor = await WriteAsync("editor.sh", "#!/bin/sh\nsed -i 's/mode: fast/mode: edited/' \"$1\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        (await _kubectl.RunAsync(["edit", "cm", "settings", "-n", _ns], null, new Dictionary<string, string> { ["EDITOR"] = editor, ["KUBE_EDITOR"] = editor })).Ok();
        Assert.Equal("edited", (await K("get", "cm", "settings", "-n", _ns, "-o", "jsonpath={.data.mode}")).Ok().Output);
    }

    [Fact]
    public async Task Replace_WithStaleCopy_Conflicts()
    {
        await ApplyManifestAsync();
        var stale = (await K("get", "cm", "settings", "-n", _ns, "-o", "yaml")).Ok().Output;
        (await K("patch", "cm", "settings", "-n", _ns, "--type=merge", "-p", """{"data":{"mode":"newer"}}""")).Ok();
        var file = await WriteAsync("stale.yaml", stale.Replace("mode: fast", "mode: stale", StringComparison.Ordinal));
        var result = await K("replace", "-f", file);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("the object has been modified", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_CascadeVariants_AndWait()
    {
        await ApplyManifestAsync();
        (await K("delete", "cm", "settings", "-n", _ns, "--wait")).Ok();
        Assert.NotEqual(0, (await K("get", "cm", "settings", "-n", _ns)).ExitCode);
        (await K("wait", "--for=condition=Available", "deploy/web", "-n", _ns, "--timeout=90s")).Ok();

        // Orphan: the Deployment goes, its ReplicaSet stays without an owner.
        (await K("delete", "deploy", "web", "-n", _ns, "--cascade=orphan", "--wait")).Ok();
        var orphaned = JsonNode.Parse((await K("get", "rs", "-n", _ns, "-l", "app=web", "-o", "json")).Ok().Output)!["items"]!.AsArray();
        var replicaSet = Assert.Single(orphaned)!;
        Assert.Null(replicaSet["metadata"]!["ownerReferences"]);

        // Foreground: the ReplicaSet is gone only after its pods are.
        var name = (string)replicaSet["metadata"]!["name"]!;
        var foreground = (await K("delete", "rs", name, "-n", _ns, "--cascade=foreground", "--wait", "--timeout=90s")).Ok();
        Assert.Contains("deleted", foreground.Output, StringComparison.Ordinal);
        Assert.Empty(JsonNode.Parse((await K("get", "pods", "-n", _ns, "-l", "app=web", "-o", "json")).Ok().Output)!["items"]!.AsArray());

        // Background (the default): the Service goes at once.
        (await K("delete", "svc", "web", "-n", _ns, "--cascade=background", "--wait")).Ok();
        Assert.NotEqual(0, (await K("get", "svc", "web", "-n", _ns)).ExitCode);
    }

    [Fact]
    public async Task Wait_ForConditionAndDelete()
    {
        await NamespaceAsync();
        (await CreateConfigMapAsync("gone")).Ok();
        var waiter = _kubectl.Start(["wait", "--for=delete", "cm/gone", "-n", _ns, "--timeout=60s"]);
        try
        {
            (await K("delete", "cm", "gone", "-n", _ns)).Ok();
            await waiter.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);
            Assert.Equal(0, waiter.ExitCode);
        }
        finally
        {
            if (!waiter.HasExited)
            {
                waiter.Kill();
            }

            waiter.Dispose();
        }

        (await K("apply", "-n", _ns, "-f", await WriteAsync("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n"))).Ok();
        (await K("patch", "pod", "p", "-n", _ns, "--subresource=status", "--type=merge", "-p", """{"status":{"conditions":[{"type":"Ready","status":"True"}]}}""")).Ok();
        (await K("wait", "--for=condition=Ready", "pod/p", "-n", _ns, "--timeout=60s")).Ok();
    }

    [Fact]
    public async Task Get_Watch_StreamsNewObjects()
    {
        await NamespaceAsync();
        using var watcher = _kubectl.Start(["get", "cm", "-n", _ns, "-w", "-o", "name"]);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            (await CreateConfigMapAsync("watched")).Ok();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await watcher.StandardOutput.ReadLineAsync(timeout.Token);
            }
            while (line is not null && !line.Contains("watched", StringComparison.Ordinal));
            Assert.Equal("configmap/watched", line);
        }
        finally
        {
            watcher.Kill();
        }
    }

    [Fact]
    public async Task Diff_ShowsChange_CreateDryRunServerStoresNothing()
    {
        await ApplyManifestAsync();
        var diff = await K("diff", "-n", _ns, "-f", await WriteAsync("diff.yaml", Manifest.Replace("mode: fast", "mode: diffed", StringComparison.Ordinal)));
        Assert.Equal(1, diff.ExitCode);
        Assert.Contains("+  mode: diffed", diff.Output, StringComparison.Ordinal);
        (await K("create", "-n", _ns, "--dry-run=server", "-f", await WriteAsync("dry.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n"))).Ok();
        Assert.NotEqual(0, (await K("get", "cm", "dry", "-n", _ns)).ExitCode);
    }

    [Fact]
    public async Task Explain_DescribesFields()
    {
        var result = (await K("explain", "deployment.spec.replicas")).Ok();
        Assert.Contains("replicas", result.Output, StringComparison.Ordinal);
        Assert.Contains("integer", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidObjects_AreRejectedWithFieldPaths()
    {
        await NamespaceAsync();
        var badPod = await WriteAsync("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n");
        var result = await K("apply", "-n", _ns, "-f", badPod);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("spec.containers[0].image: Required value", result.Error, StringComparison.Ordinal);
        var unknown = await WriteAsync("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\nspecial: 1\n");
        var strict = await K("apply", "-n", _ns, "-f", unknown);
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains("unknown field \"special\"", strict.Error, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (_namespaceCreated)
        {
            using var process = _kubectl.Start(["delete", "namespace", _ns, "--wait=false"]);
            process.WaitForExit(30_000);
        }

        Directory.Delete(_dir, recursive: true);
    }
}
