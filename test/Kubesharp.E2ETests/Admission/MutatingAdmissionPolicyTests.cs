namespace Kubesharp.E2ETests.Admission;

/// <summary>MutatingAdmissionPolicies and their bindings through the real kubectl against the real server.</summary>
[Collection(KubectlCollection.Name)]
public sealed class MutatingAdmissionPolicyTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "map" + Guid.NewGuid().ToString("N")[..10];

    private string Policy => $"stamp-{_ns}";

    public async Task InitializeAsync() =>
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();

    public async Task DisposeAsync()
    {
        await _kubectl.RunAsync("delete", $"mutatingadmissionpolicybinding/{Policy}", $"mutatingadmissionpolicy/{Policy}", "--ignore-not-found");
        await _kubectl.RunAsync("delete", "namespace", _ns, "--wait=false");
    }

    private async Task BindAsync(string mutations, string failurePolicy = "Fail") =>
        (await _kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: MutatingAdmissionPolicy
            metadata: {name: {{Policy}}}
            spec:
              failurePolicy: {{failurePolicy}}
              matchConstraints:
                resourceRules:
                - apiGroups: [""]
                  apiVersions: [v1]
                  operations: [CREATE]
                  resources: [configmaps]
              mutations:
            {{mutations}}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: MutatingAdmissionPolicyBinding
            metadata: {name: {{Policy}}}
            spec:
              policyName: {{Policy}}
              matchResources:
                namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: {{_ns}}}
            """, null)).Ok();

    [Fact]
    public async Task ApplyConfigurationAndJsonPatch_MutateTheObject_InOrder()
    {
        await BindAsync("""
              - patchType: ApplyConfiguration
                applyConfiguration:
                  expression: >
                    Object{metadata: Object.metadata{labels: {"stamped": "yes"}}}
              - patchType: JSONPatch
                jsonPatch:
                  expression: >
                    [JSONPatch{op: "add", path: "/metadata/labels/" + jsonpatch.escapeKey("example.com/copy"), value: object.metadata.labels["stamped"]}]
            """);

        (await _kubectl.RunAsync("create", "configmap", "stamped", "-n", _ns, "--from-literal=a=b")).Ok();

        var labels = (await _kubectl.RunAsync("get", "configmap", "stamped", "-n", _ns, "-o", "jsonpath={.metadata.labels}")).Ok();
        Assert.Equal("""{"example.com/copy":"yes","stamped":"yes"}""", labels.Output);
    }

    [Fact]
    public async Task FailingMutation_RefusesUnderFail_AndIsSkippedUnderIgnore()
    {
        var mutation = """
              - patchType: JSONPatch
                jsonPatch:
                  expression: >-
                    [JSONPatch{op: "replace", path: "/data/missing", value: object.data.nothere}]
            """;
        await BindAsync(mutation);

        var refused = await _kubectl.RunAsync("create", "configmap", "refused", "-n", _ns, "--from-literal=a=b");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"policy '{Policy}' with binding '{Policy}' denied request: expression '[JSONPatch{{op: \"replace\", path: \"/data/missing\", value: object.data.nothere}}]' resulted in error: no such key: nothere", refused.Error, StringComparison.Ordinal);

        await BindAsync(mutation, failurePolicy: "Ignore");
        (await _kubectl.RunAsync("create", "configmap", "ignored", "-n", _ns, "--from-literal=a=b")).Ok();
    }
}
