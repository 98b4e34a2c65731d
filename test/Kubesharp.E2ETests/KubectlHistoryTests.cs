using System.Diagnostics;
using System.Text.Json.Nodes;
using Kubesharp.E2ETests.Support;
using Kubesharp.IntegrationTests.ApiServer;
using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// <c>kubectl history</c>: the real kubectl runs the plugin (the kubesharp executable linked as kubectl-history on
/// PATH) against the real <c>kubesharp server --history-retention 1h</c>: revisions with what changed, the object at
/// a revision and at a time, deleted objects, and restore.
/// </summary>
public sealed class KubectlHistoryTests : IAsyncLifetime
{
    private const string Namespace = "history-e2e";
    private readonly KubectlServer _server = new();
    private readonly string _bin = Path.Combine(Path.GetTempPath(), "kubesharp-plugin-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_server.DataDir);
        Directory.CreateDirectory(_bin);
        File.CreateSymbolicLink(Path.Combine(_bin, "kubectl-history"), KubesharpExecutable.File);
        _process = await KubectlServer.StartAsync(_server.DataDir, ["--disable-agent", "--history-retention", "1h", "--history-max-size", "64Mi"]);
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await KubectlServer.StopAsync(_process);
        }

        await _server.DisposeAsync();
        Directory.Delete(_bin, recursive: true);
    }

    [Fact]
    public async Task KubectlHistory_PluginOnPath_ListsAtTimeDeletedAndRestores()
    {
        var kubectl = new Kubectl(_server);
        (await kubectl.RunAsync("create", "namespace", Namespace)).Ok();
        (await kubectl.RunAsync("-n", Namespace, "create", "configmap", "app", "--from-literal=color=red")).Ok();
        (await kubectl.RunAsync("-n", Namespace, "patch", "configmap", "app", "--type=merge", "-p", """{"data":{"color":"blue"}}""")).Ok();
        (await kubectl.RunAsync(["-n", Namespace, "apply", "--server-side", "--field-manager=deployer", "-f", "-"], """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: app, labels: {tier: web}}
            data: {color: blue}
            """, null)).Ok();
        (await kubectl.RunAsync("-n", Namespace, "delete", "configmap", "app")).Ok();

        var plugins = await PluginAsync("plugin", "list");
        Assert.Contains(Path.Combine(_bin, "kubectl-history"), plugins.Output, StringComparison.Ordinal);

        var table = (await PluginAsync("history", "configmap/app", "-n", Namespace)).Ok().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^REVISION\s+TIME\s+CHANGE\s+MANAGER\s+USER$", table[0]);
        var rows = table.Skip(1).Where(l => !l.StartsWith(' ')).ToList();
        Assert.Equal(4, rows.Count);
        Assert.Matches(@"^\d+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+ADDED\s+kubesharp-admin\s+kubesharp-admin$", rows[0]);
        Assert.Matches(@"^\d+\s+\S+\s+MODIFIED\s+kubesharp-admin\s+kubesharp-admin$", rows[1]);
        Assert.Matches(@"^\d+\s+\S+\s+MODIFIED\s+deployer\s+kubesharp-admin$", rows[2]);
        Assert.Matches(@"^\d+\s+\S+\s+DELETED\s+kubesharp-admin\s+kubesharp-admin$", rows[3]);
        var patchAt = Array.IndexOf(table, rows[1]);
        Assert.Equal("    ~ data.color: \"red\" -> \"blue\"", table[patchAt + 1]);
        var applyAt = Array.IndexOf(table, rows[2]);
        Assert.Contains("    + metadata.labels.tier: \"web\"", table.Skip(applyAt + 1).TakeWhile(l => l.StartsWith(' ')));
        var revisions = rows.Select(r => r.Split(' ')[0]).ToList();

        // As it was at a revision, and at the time of the first write (-o json carries the exact times).
        var atRevision = (await PluginAsync("history", "cm/app", "-n", Namespace, "--revision", revisions[0], "-o", "yaml")).Ok().Output;
        Assert.Contains("kind: ConfigMap", atRevision, StringComparison.Ordinal);
        Assert.Contains("color: red", atRevision, StringComparison.Ordinal);
        Assert.Contains($"resourceVersion: \"{revisions[0]}\"", atRevision, StringComparison.Ordinal);
        var list = JsonNode.Parse((await PluginAsync("history", "configmaps/app", "-n", Namespace, "-o", "json")).Ok().Output)!;
        var secondTime = (string)list["items"]![1]!["time"]!;
        var atTime = (await PluginAsync("history", "configmap/app", "-n", Namespace, "--at", secondTime, "-o", "yaml")).Ok().Output;
        Assert.Contains("color: blue", atTime, StringComparison.Ordinal);
        Assert.DoesNotContain("tier: web", atTime, StringComparison.Ordinal);
        var before = await PluginAsync("history", "configmap/app", "-n", Namespace, "--at", "2001-01-01T00:00:00Z");
        Assert.Equal(1, before.ExitCode);
        Assert.Contains("Error from server (NotFound): configmaps \"app\" did not exist at 2001-01-01T00:00:00Z", before.Error, StringComparison.Ordinal);

        var deleted = (await PluginAsync("history", "--deleted", "-n", Namespace)).Ok().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+DELETED\s+USER\s+REVISION$", deleted[0]);
        Assert.Matches($@"^configmap/app\s+\S+Z\s+kubesharp-admin\s+{revisions[3]}$", Assert.Single(deleted.Skip(1)));

        // The same list through kubectl get: discovery publishes it and it answers the Table form kubectl asks for.
        var got = (await kubectl.RunAsync("-n", Namespace, "get", "deletedobjects")).Ok().Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+KIND\s+DELETED\s+USER\s+REVISION$", got[0]);
        Assert.Matches($@"^app\s+ConfigMap\s+\S+Z\s+kubesharp-admin\s+{revisions[3]}$", Assert.Single(got.Skip(1)));

        // Restore brings back the last state before deletion; restoring a revision of a living object rolls it back.
        Assert.Equal($"configmap/app restored to revision {revisions[2]}\n", (await PluginAsync("history", "restore", "configmap/app", "-n", Namespace)).Ok().Output);
        var restored = JsonNode.Parse((await kubectl.RunAsync("-n", Namespace, "get", "configmap", "app", "-o", "json")).Ok().Output)!;
        Assert.Equal("blue", (string?)restored["data"]!["color"]);
        Assert.Equal("web", (string?)restored["metadata"]!["labels"]!["tier"]);
        Assert.Equal($"configmap/app rolled back to revision {revisions[0]}\n", (await PluginAsync("history", "restore", "configmap/app", "-n", Namespace, "--revision", revisions[0])).Ok().Output);
        Assert.Equal("red", (await kubectl.RunAsync("-n", Namespace, "get", "configmap", "app", "-o", "jsonpath={.data.color}")).Ok().Output);
        Assert.Contains("No deleted objects found in history-e2e namespace.", (await PluginAsync("history", "--deleted", "-n", Namespace)).Ok().Output, StringComparison.Ordinal);

        var unknown = await PluginAsync("history", "configmap/never", "-n", Namespace);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("Error from server (NotFound): configmaps \"never\" not found", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KubectlHistory_CustomResourceOfSeveralVersions_InTheVersionAsked()
    {
        var kubectl = new Kubectl(_server);
        var ns = Namespace + "-cr";
        await using var webhook = await TestConversionWebhook.StartAsync();
        var plain = new CustomResourceDefinitionManifest("plain.history.example.com", "gadgets", "Gadget") { Versions = [new("v1") { Storage = true }, new("v2")] };
        var converted = new CustomResourceDefinitionManifest("converted.history.example.com", "widgets", "Widget")
        {
            Webhook = (webhook.Url("/convert"), webhook.CaBundle),
            Versions =
            [
                new("v1") { Storage = true, Spec = "{type: object, properties: {color: {type: string}}}" },
                new("v2") { Spec = "{type: object, properties: {colour: {type: string}}}" },
            ],
        };
        (await kubectl.RunAsync(["apply", "-f", "-"], $"{plain}---\n{converted}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n", null)).Ok();
        (await kubectl.RunAsync("wait", "--for=condition=Established", $"crd/{plain.Name}", $"crd/{converted.Name}", "--timeout=60s")).Ok();
        foreach (var (manifest, resource, body) in new[] { (plain, "gadgets", "size: 1"), (converted, "widgets", "color: red") })
        {
            (await kubectl.RunAsync(["apply", "-n", ns, "-f", "-"], $"apiVersion: {manifest.Group}/v1\nkind: {manifest.Kind}\nmetadata: {{name: one}}\nspec: {{{body}}}\n", null)).Ok();
            var patch = resource == "gadgets" ? """{"spec":{"size":2}}""" : """{"spec":{"color":"blue"}}""";
            (await kubectl.RunAsync("-n", ns, "patch", $"{resource}.v1.{manifest.Group}", "one", "--type=merge", "-p", patch)).Ok();
        }

        // Conversion None: every revision, and the object as it was, in the version asked for (v2, the preferred).
        var gadgets = JsonNode.Parse((await PluginAsync("history", "gadgets/one", "-n", ns, "-o", "json")).Ok().Output)!["items"]!.AsArray();
        Assert.Equal(2, gadgets.Count);
        Assert.All(gadgets, r => Assert.Equal($"{plain.Group}/v2", (string?)r!["object"]!["apiVersion"]));
        var gadgetThen = (await PluginAsync("history", $"gadgets.v2.{plain.Group}/one", "-n", ns, "--at", (string)gadgets[0]!["time"]!, "-o", "yaml")).Ok().Output;
        Assert.Contains($"apiVersion: {plain.Group}/v2", gadgetThen, StringComparison.Ordinal);
        Assert.Contains("size: 1", gadgetThen, StringComparison.Ordinal);
        Assert.Contains($"apiVersion: {plain.Group}/v1", (await PluginAsync("history", $"gadgets.v1.{plain.Group}/one", "-n", ns, "--revision", gadgets[1]!["revision"]!.ToString(), "-o", "yaml")).Ok().Output, StringComparison.Ordinal);

        // Conversion by webhook: v2 names the field colour, the store (v1) color; history shows what a GET of the version shows.
        var table = (await PluginAsync("history", $"widgets.v2.{converted.Group}/one", "-n", ns)).Ok().Output;
        Assert.Contains("    ~ spec.colour: \"red\" -> \"blue\"", table, StringComparison.Ordinal);
        Assert.DoesNotContain("spec.color:", table, StringComparison.Ordinal);
        var widgets = JsonNode.Parse((await PluginAsync("history", $"widgets.v2.{converted.Group}/one", "-n", ns, "-o", "json")).Ok().Output)!["items"]!.AsArray();
        var first = widgets[0]!["revision"]!.ToString();
        var widgetThen = (await PluginAsync("history", $"widgets.v2.{converted.Group}/one", "-n", ns, "--revision", first, "-o", "yaml")).Ok().Output;
        Assert.Contains($"apiVersion: {converted.Group}/v2", widgetThen, StringComparison.Ordinal);
        Assert.Contains("colour: red", widgetThen, StringComparison.Ordinal);
        Assert.Contains(webhook.Calls, c => (string?)c.Request["desiredAPIVersion"] == $"{converted.Group}/v2" && ((JsonArray)c.Request["objects"]!).Count == 2);
        var stored = (await PluginAsync("history", $"widgets.v1.{converted.Group}/one", "-n", ns, "--revision", first, "-o", "yaml")).Ok().Output;
        Assert.Contains("color: red", stored, StringComparison.Ordinal);
        (await kubectl.RunAsync("delete", "crd", plain.Name, converted.Name, "--wait=false")).Ok();
    }

    [Kubesharp.E2ETests.Dashboard.ChromiumFact]
    public async Task Dashboard_ObjectHistory_ShowsRevisionsChangesAndTheObjectAsItWas()
    {
        var kubectl = new Kubectl(_server);
        (await kubectl.RunAsync("create", "namespace", Namespace + "-ui")).Ok();
        (await kubectl.RunAsync("-n", Namespace + "-ui", "create", "configmap", "web", "--from-literal=color=red")).Ok();
        (await kubectl.RunAsync("-n", Namespace + "-ui", "patch", "configmap", "web", "--type=merge", "-p", """{"data":{"color":"blue","size":"L"},"metadata":{"labels":{"tier":"front"}}}""")).Ok();
        (await kubectl.RunAsync("-n", Namespace + "-ui", "create", "serviceaccount", "viewer")).Ok();
        (await kubectl.RunAsync("create", "clusterrolebinding", "history-ui-admin", "--clusterrole=cluster-admin", $"--serviceaccount={Namespace}-ui:viewer")).Ok();
        var token = (await kubectl.RunAsync("-n", Namespace + "-ui", "create", "token", "viewer")).Ok().Output.Trim();
        var server = System.Text.RegularExpressions.Regex.Match(await File.ReadAllTextAsync(_server.Kubeconfig), @"server:\s*(https://\S+)").Groups[1].Value;
        var timeout = TimeSpan.FromMinutes(2);

        await using var browser = await Kubesharp.E2ETests.Dashboard.HeadlessChromium.StartAsync();
        await browser.NavigateAsync(server + "/dashboard/");
        await browser.WaitForAsync("document.querySelector('#token')", timeout);
        await browser.EvaluateAsync($"document.querySelector('#token').value = {System.Text.Json.JsonSerializer.Serialize(token)}");
        await browser.ClickAsync("#signin-submit");
        await browser.WaitForAsync("document.querySelector('#nav') && !document.querySelector('#nav').hidden", timeout);
        await browser.EvaluateAsync($"location.hash = '#/object/api/v1/namespaces/{Namespace}-ui/configmaps/web'");
        await browser.WaitForAsync("document.querySelector('#object-text')", timeout);
        await browser.ClickAsync("#show-history");
        await browser.WaitForAsync("document.querySelectorAll('#history-table tbody tr').length === 2", timeout);

        // Newest first: the patch with each field it changed, then the creation.
        var rows = (await browser.EvaluateAsync("JSON.stringify([...document.querySelectorAll('#history-table tbody tr')].map(r => r.innerText))"))!.GetValue<string>();
        var texts = JsonNode.Parse(rows)!.AsArray().Select(r => (string)r!).ToList();
        Assert.Contains("MODIFIED", texts[0], StringComparison.Ordinal);
        Assert.Contains("~ data.color: \"red\" -> \"blue\"", texts[0], StringComparison.Ordinal);
        Assert.Contains("+ data.size: \"L\"", texts[0], StringComparison.Ordinal);
        Assert.Contains("+ metadata.labels.tier: \"front\"", texts[0], StringComparison.Ordinal);
        Assert.DoesNotContain("resourceVersion", texts[0], StringComparison.Ordinal);
        Assert.Contains("ADDED", texts[1], StringComparison.Ordinal);
        Assert.Contains("kubesharp-admin", texts[1], StringComparison.Ordinal);

        // Time travel: the first revision as it was, then back to the live object.
        await browser.EvaluateAsync("document.querySelectorAll('#history-table .view-revision')[1].click()");
        await browser.WaitForAsync("document.querySelector('#revision-notice')", timeout);
        var then = await browser.TextAsync("#object-text");
        Assert.Contains("color: red", then, StringComparison.Ordinal);
        Assert.DoesNotContain("size", then, StringComparison.Ordinal);
        await browser.ClickAsync("#show-yaml");
        await browser.WaitForAsync("!document.querySelector('#revision-notice') && document.querySelector('#object-text').innerText.includes('color: blue')", timeout);
        await browser.ScreenshotAsync(Path.Combine(Kubesharp.E2ETests.Dashboard.DashboardTests.ScreenshotDirectory, "dashboard-history.png"));
        Assert.Empty(browser.PageErrors);
        (await kubectl.RunAsync("delete", "clusterrolebinding", "history-ui-admin")).Ok();
    }

    private Task<Kubectl.Result> PluginAsync(params string[] args) =>
        new Kubectl(_server).RunAsync(args, null, new Dictionary<string, string> { ["PATH"] = _bin + ":" + Environment.GetEnvironmentVariable("PATH") });
}
