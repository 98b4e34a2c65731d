using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kubesharp.E2ETests.Dashboard;

/// <summary>
/// The dashboard at /dashboard/ of the real server, driven in headless Chromium with a service-account token: what it
/// shows comes from the API as that user (RBAC applies), live through watches, and edits go through server-side apply.
/// Screenshots land in the test output's screenshots folder.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed partial class DashboardTests(KubectlServer server) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "dash-" + Guid.NewGuid().ToString("N")[..8];
    private HeadlessChromium? _browser;

    public static string ScreenshotDirectory => Path.Combine(AppContext.BaseDirectory, "screenshots");

    private HeadlessChromium Browser => _browser!;

    public async Task InitializeAsync()
    {
        (await K("create", "namespace", _ns)).Ok();
        _browser = await HeadlessChromium.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        await K("delete", "clusterrolebinding", _ns + "-admin", "--ignore-not-found", "--wait=false");
        await K("delete", "namespace", _ns, "--wait=false");
    }

    [ChromiumFact]
    public async Task Dashboard_ScriptFailsToLoad_SaysSoAndReloads()
    {
        // A module deep in the page's imports fails as a dropped connection would.
        await Browser.FailRequestsAsync("*/dashboard/history.js");
        await Browser.NavigateAsync(ServerUrl() + "/dashboard/");
        await Browser.WaitForAsync("document.querySelector('#load-failed')", Timeout);
        Assert.Contains("scripts did not load", await Browser.TextAsync("#load-failed"), StringComparison.Ordinal);
        Assert.Contains(Browser.BrowserLog, line => line.Contains("/dashboard/history.js", StringComparison.Ordinal));
        Assert.Null(await Browser.EvaluateAsync("document.querySelector('#signin')"));

        // Once the connection is back, the page's own button loads it whole.
        await Browser.StopFailingRequestsAsync();
        await Browser.ClickAsync("#reload");
        await Browser.WaitForAsync("document.querySelector('#signin')", Timeout);
        Assert.Equal("none", (string?)await Browser.EvaluateAsync("getComputedStyle(document.querySelector('#nav')).display"));
        Assert.Empty(Browser.PageErrors);
    }

    [ChromiumFact]
    public async Task Dashboard_SignedInWithToken_ShowsLiveClusterStateAndAppliesEdits()
    {
        // Two users: one bound to cluster-admin, one with no rights at all.
        (await K("create", "serviceaccount", "admin", "-n", _ns)).Ok();
        (await K("create", "serviceaccount", "nobody", "-n", _ns)).Ok();
        (await K("create", "clusterrolebinding", _ns + "-admin", "--clusterrole=cluster-admin", $"--serviceaccount={_ns}:admin")).Ok();
        var adminToken = (await K("create", "token", "admin", "-n", _ns)).Ok().Output.Trim();
        var nobodyToken = (await K("create", "token", "nobody", "-n", _ns)).Ok().Output.Trim();

        // The static files need no credential; the bare path redirects to the directory.
        await Browser.NavigateAsync(ServerUrl() + "/dashboard");
        Assert.Equal("/dashboard/", (string?)await Browser.EvaluateAsync("location.pathname"));
        await Browser.WaitForAsync("document.querySelector('#signin')", Timeout);
        await Browser.ScreenshotAsync(Path.Combine(ScreenshotDirectory, "dashboard-signin.png"));

        // A user without rights is signed in (the token is valid) but sees the API's refusal, not the cluster.
        await SignInAsync(nobodyToken);
        await Browser.WaitForAsync("document.querySelector('#nodes .error')", Timeout);
        Assert.Contains("Forbidden", await Browser.TextAsync("#nodes"), StringComparison.Ordinal);
        Assert.Contains($"system:serviceaccount:{_ns}:nobody", await Browser.TextAsync("#nodes"), StringComparison.Ordinal);
        await Browser.ClickAsync("#sign-out");
        await Browser.WaitForAsync("document.querySelector('#signin') && sessionStorage.length === 0", Timeout);

        // A wrong token is refused at sign-in.
        await SignInAsync("not-a-token");
        await Browser.WaitForAsync("document.querySelector('#signin .error')", Timeout);
        Assert.Contains("401", await Browser.TextAsync("#signin .error"), StringComparison.Ordinal);

        // The admin sees the overview: every simulated node with its capacity, pods by phase, warnings.
        await SignInAsync(adminToken);
        await Browser.WaitForAsync($"document.querySelector('#view').dataset.rendered === 'overview' && document.querySelectorAll('#node-table tbody tr').length >= {KubectlServer.SimulatedNodes}", Timeout);
        Assert.Equal(adminToken, (string?)await Browser.EvaluateAsync("sessionStorage.getItem('kubesharp.dashboard.token')"));
        Assert.Contains("sim-node-0", await Browser.TextAsync("#node-table"), StringComparison.Ordinal);

        // A pod no node accepts: the scheduler's verdict and its FailedScheduling warning on the pod's page.
        (await K("run", "stuck", "--image=nginx", "-n", _ns, "--overrides", """{"spec":{"nodeSelector":{"disk":"none-has-this"}}}""")).Ok();
        await Browser.EvaluateAsync($"location.hash = '#/pod/{_ns}/stuck'");
        await Browser.WaitForAsync("document.querySelector('#verdict-table tbody tr')", Timeout);
        var verdict = await Browser.TextAsync("#pod-verdict");
        Assert.Contains($"0 of {KubectlServer.SimulatedNodes}", verdict, StringComparison.Ordinal);
        Assert.Contains("NodeAffinity", verdict, StringComparison.Ordinal);
        await Browser.WaitForAsync("document.querySelector('#event-table')?.innerText.includes('FailedScheduling')", Timeout);
        Assert.Equal("Pending", await Browser.TextAsync("#pod-phase"));
        await Browser.ScreenshotAsync(Path.Combine(ScreenshotDirectory, "dashboard-pending-pod.png"));

        // The same warning is on the overview.
        await Browser.EvaluateAsync("location.hash = '#/overview'");
        await Browser.WaitForAsync($"document.querySelector('#warning-table')?.innerText.includes('{_ns}/Pod/stuck')", Timeout);
        Assert.Contains("FailedScheduling", await Browser.TextAsync("#warning-table"), StringComparison.Ordinal);
        await Browser.ScreenshotAsync(Path.Combine(ScreenshotDirectory, "dashboard-overview.png"));

        // A ConfigMap edited in the YAML view and saved by server-side apply: kubectl create owns the field, so the
        // apply conflicts until it is forced.
        (await K("create", "configmap", "settings", "--from-literal=color=blue", "-n", _ns)).Ok();
        await Browser.EvaluateAsync($"location.hash = '#/list/api/v1/configmaps'");
        await Browser.WaitForAsync($"document.querySelector('a[href=\"#/object/api/v1/namespaces/{_ns}/configmaps/settings\"]')", Timeout);
        await Browser.ClickAsync($"a[href=\"#/object/api/v1/namespaces/{_ns}/configmaps/settings\"]");
        await Browser.WaitForAsync("document.querySelector('#object-text')?.textContent.includes('color: blue')", Timeout);
        Assert.Contains("kind: ConfigMap", await Browser.TextAsync("#object-text"), StringComparison.Ordinal);
        await Browser.ClickAsync("#edit");
        await Browser.EvaluateAsync("(() => { const e = document.querySelector('#object-editor'); e.value = e.value.replace('color: blue', 'color: green\\n  size: large'); })()");
        await Browser.ScreenshotAsync(Path.Combine(ScreenshotDirectory, "dashboard-edit-configmap.png"));
        await Browser.ClickAsync("#apply");
        await Browser.WaitForAsync("document.querySelector('#force-apply')", Timeout);
        Assert.Contains("Conflict", await Browser.TextAsync("#object-message"), StringComparison.Ordinal);
        Assert.Equal("blue", (await K("get", "configmap", "settings", "-n", _ns, "-o", "jsonpath={.data.color}")).Ok().Output);
        await Browser.ClickAsync("#force-apply");
        await Browser.WaitForAsync("document.querySelector('#applied')", Timeout);
        var applied = JsonNode.Parse((await K("get", "configmap", "settings", "-n", _ns, "-o", "json", "--show-managed-fields")).Ok().Output)!;
        Assert.Equal("green", (string?)applied["data"]!["color"]);
        Assert.Equal("large", (string?)applied["data"]!["size"]);
        var manager = applied["metadata"]!["managedFields"]!.AsArray().Single(m => (string?)m!["manager"] == "dashboard")!;
        Assert.Equal("Apply", (string?)manager["operation"]);

        // The view follows changes made elsewhere.
        (await K("patch", "configmap", "settings", "-n", _ns, "--type=merge", "-p", """{"data":{"size":"small"}}""")).Ok();
        await Browser.WaitForAsync("document.querySelector('#object-text')?.textContent.includes('size: small')", Timeout);
        // A Deployment rolls out and scales while the page stays loaded: the watch, not a reload, brings the change.
        // The simulated nodes are tainted: the pods tolerate it.
        (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
             "template":{"metadata":{"labels":{"app":"web"}},"spec":{"tolerations":[{"key":"kubesharp.io/simulated","operator":"Exists"}],"containers":[{"name":"web","image":"nginx"}]}}}}
            """, null)).Ok();
        await Browser.EvaluateAsync("location.hash = '#/workloads'; window.samePage = true");
        var row = $"document.querySelector('[data-workload=\"Deployment/{_ns}/web\"]')";
        var rollout = await K("rollout", "status", "deployment/web", "-n", _ns, "--timeout=100s");
        Assert.True(rollout.ExitCode == 0, $"the Deployment did not roll out: {rollout.Error}\n{(await K("get", "pods,replicasets,events", "-n", _ns, "-o", "wide")).Output}");
        await Browser.WaitForAsync($"{row}?.querySelector('.ready').textContent === '1/1'", TimeSpan.FromSeconds(30));
        (await K("scale", "deployment", "web", "--replicas=4", "-n", _ns)).Ok();
        await Browser.WaitForAsync($"{row}?.querySelector('.ready').textContent === '4/4' && {row}.innerText.includes('complete')", Timeout);
        Assert.True((bool?)await Browser.EvaluateAsync("window.samePage === true"), "the page was reloaded");
        await Browser.ScreenshotAsync(Path.Combine(ScreenshotDirectory, "dashboard-workloads.png"));

        await Browser.EvaluateAsync("location.hash = '#/overview'");
        await Browser.WaitForAsync("Number(document.querySelector('[data-phase=\"Running\"] b')?.textContent) >= 4", Timeout);
        await Browser.ScreenshotAsync(Path.Combine(ScreenshotDirectory, "dashboard-overview.png"));
        Assert.Empty(Browser.PageErrors);
    }

    private async Task SignInAsync(string token)
    {
        await Browser.WaitForAsync("document.querySelector('#token')", Timeout);
        await Browser.EvaluateAsync($"document.querySelector('#token').value = {JsonSerializer.Serialize(token)}");
        await Browser.ClickAsync("#signin-submit");
    }

    private string ServerUrl() => ServerLine().Match(File.ReadAllText(server.Kubeconfig)).Groups[1].Value;

    private Task<Kubectl.Result> K(params string[] args) => _kubectl.RunAsync(args);

    [GeneratedRegex(@"server:\s*(https://\S+)")]
    private static partial Regex ServerLine();
}
