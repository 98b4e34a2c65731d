using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests.Audit;

/// <summary>
/// kubectl against a real server run with --audit-policy-file and --audit-log-path: each policy level records what
/// upstream's does, Secrets' data never reaches the log at Metadata level, and everything is written by shutdown.
/// </summary>
public sealed class KubectlAuditTests : IAsyncLifetime
{
    private const string Namespace = "audit-e2e";
    private const string SecretValue = "TOPSECRET-d41d8cd98f00";

    private readonly KubectlServer _server = new();
    private Process? _process;

    private string LogPath => Path.Combine(_server.DataDir, "audit", "audit.log");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_server.DataDir);
        var policy = Path.Combine(_server.DataDir, "policy.yaml");
        await File.WriteAllTextAsync(policy, $$"""
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitManagedFields: true
            rules:
              - level: None
                resources: [{group: "", resources: [events]}]
              - level: RequestResponse
                namespaces: [{{Namespace}}]
                resources: [{group: "", resources: [configmaps]}]
              - level: Metadata
                resources: [{group: "", resources: [secrets]}]
              - level: Request
                namespaces: [{{Namespace}}]
                resources: [{group: apps, resources: [deployments]}]
                omitStages: [RequestReceived]
              - level: Metadata
                nonResourceURLs: ["/version"]
              - level: Metadata
                namespaces: [{{Namespace}}]
            """);
        _process = await KubectlServer.StartAsync(_server.DataDir, ["--disable-agent", "--audit-policy-file", policy, "--audit-log-path", LogPath, "--audit-log-maxbackup", "3"]);
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await KubectlServer.StopAsync(_process);
        }

        await _server.DisposeAsync();
    }

    [Fact]
    public async Task KubectlCommands_PolicyLevels_RecordedPerStage()
    {
        var kubectl = new Kubectl(_server);
        (await kubectl.RunAsync("create", "namespace", Namespace)).Ok();
        (await kubectl.RunAsync("-n", Namespace, "create", "secret", "generic", "s1", $"--from-literal=password={SecretValue}")).Ok();
        (await kubectl.RunAsync("-n", Namespace, "get", "secret", "s1", "-o", "yaml")).Ok();
        (await kubectl.RunAsync("-n", Namespace, "create", "configmap", "c1", "--from-literal=color=blue")).Ok();
        var verbose = (await kubectl.RunAsync("-n", Namespace, "get", "configmap", "c1", "-o", "json", "-v=8")).Ok();
        (await kubectl.RunAsync("-n", Namespace, "create", "deployment", "d1", "--image=registry.k8s.io/pause:3.10")).Ok();
        (await kubectl.RunAsync("-n", Namespace, "get", "configmaps", "--as=bob")).ExitCode.ShouldBeFailure();
        (await kubectl.RunAsync("get", "--raw", $"/api/v1/namespaces/{Namespace}/configmaps?watch=1&timeoutSeconds=1")).Ok();
        (await kubectl.RunAsync("version")).Ok();

        // The server writes in the background; stopping it writes out whatever is still queued.
        await KubectlServer.StopAsync(_process!);
        _process = null;
        var events = (await File.ReadAllLinesAsync(LogPath)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.All(events, e =>
        {
            Assert.Equal("Event", e["kind"]!.GetValue<string>());
            Assert.Equal("audit.k8s.io/v1", e["apiVersion"]!.GetValue<string>());
        });

        // Metadata for secrets: both stages, no object, and the value nowhere in the log.
        var secretCreate = Single(events, "create", "secrets", "ResponseComplete");
        Assert.Equal("Metadata", secretCreate["level"]!.GetValue<string>());
        Assert.Equal(201, secretCreate["responseStatus"]!["code"]!.GetValue<int>());
        Assert.Null(secretCreate["requestObject"]);
        Assert.Null(secretCreate["responseObject"]);
        Assert.Equal("allow", secretCreate["annotations"]!["authorization.k8s.io/decision"]!.GetValue<string>());
        Assert.Equal(secretCreate["auditID"]!.GetValue<string>(), Single(events, "create", "secrets", "RequestReceived")["auditID"]!.GetValue<string>());
        Assert.Contains("kubectl", secretCreate["userAgent"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", secretCreate["sourceIPs"]!.AsArray().Select(ip => ip!.GetValue<string>()));
        Assert.Equal("s1", Single(events, "get", "secrets", "ResponseComplete")["objectRef"]!["name"]!.GetValue<string>());
        var text = await File.ReadAllTextAsync(LogPath);
        Assert.DoesNotContain(SecretValue, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(SecretValue)), text, StringComparison.Ordinal);

        // RequestResponse for configmaps: the request and the response, managedFields left out.
        var configMapCreate = Single(events, "create", "configmaps", "ResponseComplete");
        Assert.Equal("RequestResponse", configMapCreate["level"]!.GetValue<string>());
        Assert.Equal("blue", configMapCreate["requestObject"]!["data"]!["color"]!.GetValue<string>());
        Assert.Equal("c1", configMapCreate["responseObject"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(configMapCreate["responseObject"]!["metadata"]!["managedFields"]);
        Assert.Null(Single(events, "create", "configmaps", "RequestReceived")["requestObject"]);
        var configMapGet = Single(events, "get", "configmaps", "ResponseComplete");
        Assert.Equal("blue", configMapGet["responseObject"]!["data"]!["color"]!.GetValue<string>());
        Assert.Equal(new JsonObject { ["resource"] = "configmaps", ["namespace"] = Namespace, ["name"] = "c1", ["apiVersion"] = "v1" }.ToJsonString(), configMapGet["objectRef"]!.ToJsonString());
        // The Audit-Id kubectl was answered with names the event.
        var answeredIds = verbose.Error.Split('\n')
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"Audit-Id:\s*([0-9a-f-]{36})", System.Text.RegularExpressions.RegexOptions.IgnoreCase))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToList();
        Assert.Contains(configMapGet["auditID"]!.GetValue<string>(), answeredIds);

        // Request for deployments: the request object, no RequestReceived stage.
        var deploymentCreate = Single(events, "create", "deployments", "ResponseComplete");
        Assert.Equal("Request", deploymentCreate["level"]!.GetValue<string>());
        Assert.Equal("apps", deploymentCreate["objectRef"]!["apiGroup"]!.GetValue<string>());
        Assert.Equal("d1", deploymentCreate["requestObject"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(deploymentCreate["responseObject"]);
        Assert.DoesNotContain(events, e => e["objectRef"]?["resource"]?.GetValue<string>() == "deployments" && e["stage"]!.GetValue<string>() == "RequestReceived"
            && e["user"]?["username"]?.GetValue<string>() == "kubesharp-admin");

        // Impersonation: the admin acting as bob, whom RBAC refuses.
        var impersonated = events.Single(e => e["impersonatedUser"]?["username"]?.GetValue<string>() == "bob" && e["stage"]!.GetValue<string>() == "ResponseComplete");
        Assert.Equal(403, impersonated["responseStatus"]!["code"]!.GetValue<int>());
        Assert.Equal("Forbidden", impersonated["responseStatus"]!["reason"]!.GetValue<string>());
        Assert.Equal("forbid", impersonated["annotations"]!["authorization.k8s.io/decision"]!.GetValue<string>());
        Assert.NotEqual("bob", impersonated["user"]!["username"]!.GetValue<string>());

        // A watch: ResponseStarted when the stream begins, ResponseComplete when it ends.
        Assert.Equal(200, Single(events, "watch", "configmaps", "ResponseStarted")["responseStatus"]!["code"]!.GetValue<int>());
        Single(events, "watch", "configmaps", "ResponseComplete");

        // Nothing for what the policy leaves at None (events) or names nowhere (nodes).
        Assert.DoesNotContain(events, e => e["objectRef"]?["resource"]?.GetValue<string>() is "events" or "nodes");
        Assert.All(events, e => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", e["stageTimestamp"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Admission_WebhookAndPolicyAuditAnnotations_RecordedInTheEvent()
    {
        var kubectl = new Kubectl(_server);
        (await kubectl.RunAsync("create", "namespace", Namespace)).Ok();
        await using var webhooks = await Kubesharp.E2ETests.Admission.TestWebhookServer.StartAsync();
        (await kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: audit-annotations}
            webhooks:
            - name: annotate.test.kubesharp.io
              admissionReviewVersions: [v1]
              sideEffects: None
              clientConfig:
                url: {{webhooks.Url("/annotate")}}
                caBundle: {{webhooks.CaBundle}}
              rules:
              - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}
              namespaceSelector:
                matchLabels: {kubernetes.io/metadata.name: {{Namespace}}}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: colour-check}
            spec:
              matchConstraints:
                resourceRules:
                - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}
              validations:
              - expression: "true"
              - expression: "object.data.color == 'green'"
                message: "only green"
              auditAnnotations:
              - key: colour
                valueExpression: "'colour is ' + object.data.color"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: colour-check-audit}
            spec:
              policyName: colour-check
              validationActions: [Audit, Warn]
              matchResources:
                namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: {{Namespace}}}
            """, null)).Ok();

        // Audit and Warn only: the write is admitted with a warning, and the failure is recorded for the auditor.
        var created = (await kubectl.RunAsync("-n", Namespace, "create", "configmap", "c1", "--from-literal=color=blue")).Ok();
        Assert.Contains("only green", created.Error, StringComparison.Ordinal);

        await KubectlServer.StopAsync(_process!);
        _process = null;
        var events = (await File.ReadAllLinesAsync(LogPath)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var annotations = Single(events, "create", "configmaps", "ResponseComplete")["annotations"]!.AsObject();
        Assert.Equal("test-webhook", (string?)annotations["annotate.test.kubesharp.io/checked-by"]);
        Assert.Equal("c1", (string?)annotations["annotate.test.kubesharp.io/object"]);
        Assert.Equal("colour is blue", (string?)annotations["colour-check/colour"]);
        var failures = JsonNode.Parse((string)annotations["validation.policy.admission.k8s.io/validation_failure"]!)!.AsArray();
        var failure = Assert.Single(failures)!.AsObject();
        Assert.Equal("only green", (string?)failure["message"]);
        Assert.Equal("colour-check", (string?)failure["policy"]);
        Assert.Equal("colour-check-audit", (string?)failure["binding"]);
        Assert.Equal(1, (int?)failure["expressionIndex"]);
        Assert.Equal("""["Audit","Warn"]""", failure["validationActions"]!.ToJsonString());
    }

    private static JsonObject Single(List<JsonObject> events, string verb, string resource, string stage) =>
        events.Single(e => e["verb"]!.GetValue<string>() == verb && e["objectRef"]?["resource"]?.GetValue<string>() == resource
            && e["objectRef"]?["namespace"]?.GetValue<string>() == Namespace && e["stage"]!.GetValue<string>() == stage && e["impersonatedUser"] is null
            && e["user"]?["username"]?.GetValue<string>() == "kubesharp-admin");
}

internal static class ExitCodeAssertions
{
    public static void ShouldBeFailure(this int exitCode) => Assert.NotEqual(0, exitCode);
}
