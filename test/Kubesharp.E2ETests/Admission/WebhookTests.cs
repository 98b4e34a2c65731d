using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kubesharp.E2ETests.Admission;

/// <summary>Admission webhooks through the real kubectl against the real server, with a webhook server in the test.</summary>
[Collection(KubectlCollection.Name)]
public sealed class WebhookTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "wh" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<string> _configurations = [];
    private TestWebhookServer _webhooks = null!;

    public async Task InitializeAsync()
    {
        _webhooks = await TestWebhookServer.StartAsync();
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();
    }

    public async Task DisposeAsync()
    {
        foreach (var configuration in _configurations)
        {
            await _kubectl.RunAsync("delete", configuration, "--ignore-not-found");
        }

        await _kubectl.RunAsync("delete", "namespace", _ns, "--wait=false");
        await _webhooks.DisposeAsync();
    }

    /// <summary>A webhook configuration limited to this test's namespace, so other tests never meet it.</summary>
    private async Task RegisterAsync(string kind, string name, string clientConfig, string extra = "", string operations = "[CREATE, UPDATE]")
    {
        var resource = kind == "MutatingWebhookConfiguration" ? "mutatingwebhookconfiguration" : "validatingwebhookconfiguration";
        var configuration = $"{name}-{_ns}";
        _configurations.Add($"{resource}/{configuration}");
        var yaml = $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: {{kind}}
            metadata:
              name: {{configuration}}
            webhooks:
            - name: {{name}}.test.kubesharp.io
              admissionReviewVersions: [v1]
              sideEffects: None
              clientConfig:
            {{clientConfig}}
              rules:
              - operations: {{operations}}
                apiGroups: [""]
                apiVersions: [v1]
                resources: [configmaps]
              namespaceSelector:
                matchLabels: {kubernetes.io/metadata.name: {{_ns}}}
            {{extra}}
            """;
        (await _kubectl.RunAsync(["apply", "-f", "-"], yaml, null)).Ok();
    }

    private string UrlConfig(string path) => $"    url: {_webhooks.Url(path)}\n    caBundle: {_webhooks.CaBundle}";

    private Task<Kubectl.Result> CreateConfigMapAsync(string name, string labels = "{}", params string[] flags) =>
        _kubectl.RunAsync(["create", "-n", _ns, "-f", "-", .. flags], $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {labels}\ndata:\n  a: b\n", null);

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task MutatingWebhook_PatchesObject_AndWarningReachesKubectl()
    {
        await RegisterAsync("MutatingWebhookConfiguration", "mutate", UrlConfig("/mutate"));

        var created = (await CreateConfigMapAsync("patched")).Ok();

        Assert.Contains("Warning: mutated by the test webhook", created.Error, StringComparison.Ordinal);
        var label = (await _kubectl.RunAsync("get", "configmap", "patched", "-n", _ns, "-o", "jsonpath={.metadata.labels.mutated}")).Ok();
        Assert.Equal("yes", label.Output);
        var (path, request) = _webhooks.Calls.Single(c => (string?)c.Request["name"] == "patched");
        Assert.Equal("/mutate", path);
        Assert.Equal("CREATE", (string?)request["operation"]);
        Assert.Equal("ConfigMap", (string?)request["kind"]?["kind"]);
        Assert.Equal("configmaps", (string?)request["resource"]?["resource"]);
        Assert.Equal(_ns, (string?)request["namespace"]);
        Assert.False((bool?)request["dryRun"]);
    }

    [Fact]
    public async Task ValidatingWebhook_Denies_WithUpstreamMessage()
    {
        await RegisterAsync("ValidatingWebhookConfiguration", "deny", UrlConfig("/deny"));

        (await CreateConfigMapAsync("welcome")).Ok();
        var refused = await CreateConfigMapAsync("unwelcome", "{deny: \"yes\"}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("admission webhook \"deny.test.kubesharp.io\" denied the request: objects labelled deny=yes are not welcome", refused.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, (await _kubectl.RunAsync("get", "configmap", "unwelcome", "-n", _ns)).ExitCode);

        // An update is admitted too: labelling the allowed object is refused.
        var relabel = await _kubectl.RunAsync("label", "configmap", "welcome", "-n", _ns, "deny=yes");
        Assert.NotEqual(0, relabel.ExitCode);
        Assert.Contains("denied the request", relabel.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ObjectSelector_LimitsWhichObjectsAreSent()
    {
        await RegisterAsync("ValidatingWebhookConfiguration", "select", UrlConfig("/deny"), "  objectSelector:\n    matchLabels: {checked: \"yes\"}");

        (await CreateConfigMapAsync("unchecked", "{deny: \"yes\"}")).Ok();
        var refused = await CreateConfigMapAsync("checked", "{deny: \"yes\", checked: \"yes\"}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.DoesNotContain(_webhooks.Calls, c => (string?)c.Request["name"] == "unchecked");
    }

    [Fact]
    public async Task FailurePolicy_IgnoreAdmits_FailRefuses_WhenServerIsDown()
    {
        var down = $"    url: https://127.0.0.1:{ClosedPort()}/allow\n    caBundle: {_webhooks.CaBundle}";
        await RegisterAsync("ValidatingWebhookConfiguration", "ignored", down, "  failurePolicy: Ignore");
        (await CreateConfigMapAsync("admitted")).Ok();

        await RegisterAsync("ValidatingWebhookConfiguration", "failing", down, "  failurePolicy: Fail");
        var refused = await CreateConfigMapAsync("refused");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Internal error occurred: failed calling webhook \"failing.test.kubesharp.io\": failed to call webhook: Post \"https://127.0.0.1:", refused.Error, StringComparison.Ordinal);
        Assert.Contains("connect: connection refused", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_FailsTheRequestAfterTimeoutSeconds()
    {
        await RegisterAsync("ValidatingWebhookConfiguration", "slow", UrlConfig("/slow"), "  timeoutSeconds: 1\n  failurePolicy: Fail");

        var watch = Stopwatch.StartNew();
        var refused = await CreateConfigMapAsync("late");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("failed calling webhook \"slow.test.kubesharp.io\"", refused.Error, StringComparison.Ordinal);
        Assert.Contains("?timeout=1s\": context deadline exceeded", refused.Error, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task UnknownCertificateAuthority_IsRefused()
    {
        var wrongCa = $"    url: {_webhooks.Url("/allow")}\n    caBundle: {Convert.ToBase64String("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"u8)}";
        await RegisterAsync("ValidatingWebhookConfiguration", "untrusted", wrongCa);

        var refused = await CreateConfigMapAsync("unverified");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("failed calling webhook \"untrusted.test.kubesharp.io\"", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_webhooks.Calls, c => (string?)c.Request["name"] == "unverified");
    }

    [Fact]
    public async Task ServiceClientConfig_ReachesTheServiceEndpoints()
    {
        var endpoints = $$"""
            apiVersion: v1
            kind: Namespace
            metadata: {name: webhooks}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: admission-hook, namespace: webhooks}
            spec:
              ports: [{name: https, port: 443, targetPort: {{_webhooks.Port}}}]
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: admission-hook, namespace: webhooks}
            subsets:
            - addresses: [{ip: 127.0.0.1}]
              ports: [{name: https, port: {{_webhooks.Port}}}]
            """;
        (await _kubectl.RunAsync(["apply", "-f", "-"], endpoints, null)).Ok();
        try
        {
            var service = $"    service: {{name: admission-hook, namespace: webhooks, path: /deny}}\n    caBundle: {_webhooks.CaBundle}";
            await RegisterAsync("ValidatingWebhookConfiguration", "service", service);

            var refused = await CreateConfigMapAsync("through-service", "{deny: \"yes\"}");

            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("admission webhook \"service.test.kubesharp.io\" denied the request", refused.Error, StringComparison.Ordinal);
        }
        finally
        {
            await _kubectl.RunAsync("delete", "namespace", "webhooks", "--wait=false");
        }
    }

    [Fact]
    public async Task DryRun_CallsWebhooksWithDryRun_AndStoresNothing()
    {
        await RegisterAsync("MutatingWebhookConfiguration", "dry", UrlConfig("/mutate"));

        var result = (await CreateConfigMapAsync("dry", "{}", "--dry-run=server", "-o", "jsonpath={.metadata.labels.mutated}")).Ok();

        Assert.Equal("yes", result.Output);
        Assert.True((bool?)_webhooks.Calls.Single(c => (string?)c.Request["name"] == "dry").Request["dryRun"]);
        Assert.NotEqual(0, (await _kubectl.RunAsync("get", "configmap", "dry", "-n", _ns)).ExitCode);
    }

    [Fact]
    public async Task DeleteOperation_IsSentWithOldObject()
    {
        await RegisterAsync("ValidatingWebhookConfiguration", "deletes", UrlConfig("/allow"), operations: "[DELETE]");
        (await CreateConfigMapAsync("doomed")).Ok();

        (await _kubectl.RunAsync("delete", "configmap", "doomed", "-n", _ns)).Ok();

        var request = _webhooks.Calls.Single(c => (string?)c.Request["name"] == "doomed").Request;
        Assert.Equal("DELETE", (string?)request["operation"]);
        Assert.Null(request["object"]);
        Assert.Equal("doomed", (string?)request["oldObject"]?["metadata"]?["name"]);
        Assert.Equal("DeleteOptions", (string?)request["options"]?["kind"]);
    }

    [Fact]
    public async Task MatchConditions_SkipTheWebhook_WhenOneIsFalse_AndFailurePolicyDecidesOnErrors()
    {
        // Only objects CEL picks reach the webhook: a config map with a "skip" label never does.
        await RegisterAsync("ValidatingWebhookConfiguration", "conditions", UrlConfig("/deny"), """
              matchConditions:
              - name: not-skipped
                expression: "!has(object.metadata.labels) || !('skip' in object.metadata.labels)"
              - name: by-user
                expression: "request.userInfo.username != ''"
            """);

        (await CreateConfigMapAsync("skipped", "{deny: \"yes\", skip: \"yes\"}")).Ok();
        var refused = await CreateConfigMapAsync("checked", "{deny: \"yes\"}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("admission webhook \"conditions.test.kubesharp.io\" denied the request", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_webhooks.Calls, c => (string?)c.Request["name"] == "skipped");

        // A condition that cannot be evaluated fails the request under failurePolicy Fail, without calling the webhook.
        await RegisterAsync("ValidatingWebhookConfiguration", "broken", UrlConfig("/allow"), """
              failurePolicy: Fail
              matchConditions:
              - name: missing-field
                expression: "object.data.nothere == 'x'"
            """);
        var failed = await CreateConfigMapAsync("unevaluable");

        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("failed calling webhook \"broken.test.kubesharp.io\": expression 'object.data.nothere == 'x'' resulted in error: no such key: nothere", failed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(_webhooks.Calls, c => (string?)c.Request["name"] == "unevaluable");
    }

    [Fact]
    public async Task MatchConditions_ThatDoNotCompile_AreRefusedAtCreate()
    {
        var refused = await _kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: uncompilable-{{_ns}}}
            webhooks:
            - name: uncompilable.test.kubesharp.io
              admissionReviewVersions: [v1]
              sideEffects: None
              clientConfig: {url: "https://127.0.0.1:1/"}
              matchConditions:
              - {name: bad, expression: "object.metadata.name =="}
            """, null);

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("webhooks[0].matchConditions[0].expression: Invalid value: \"object.metadata.name ==\": compilation failed: ERROR: <input>:1:", refused.Error, StringComparison.Ordinal);
    }
}
