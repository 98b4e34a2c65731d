namespace Kubesharp.E2ETests.Admission;

/// <summary>ValidatingAdmissionPolicies and their bindings through the real kubectl against the real server.</summary>
[Collection(KubectlCollection.Name)]
public sealed class ValidatingAdmissionPolicyTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "vap" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<string> _created = [];

    public async Task InitializeAsync() =>
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n  labels: {{env: prod}}\n", null)).Ok();

    public async Task DisposeAsync()
    {
        foreach (var created in _created)
        {
            await _kubectl.RunAsync("delete", created, "--ignore-not-found");
        }

        await _kubectl.RunAsync("delete", "namespace", _ns, "--wait=false");
    }

    /// <summary>A replica-limit policy reading its limit from a ConfigMap, and a binding limited to this test's namespace.</summary>
    private async Task<(string Policy, string Binding)> ReplicaLimitAsync(string actions, string paramName = "replica-limit", string notFound = "Deny")
    {
        var policy = $"replica-limit-{_ns}";
        var binding = $"replica-limit-{actions.ToLowerInvariant()}-{_ns}";
        _created.Add($"validatingadmissionpolicybinding/{binding}");
        _created.Add($"validatingadmissionpolicy/{policy}");
        (await _kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              paramKind: {apiVersion: v1, kind: ConfigMap}
              matchConstraints:
                resourceRules:
                - apiGroups: [apps]
                  apiVersions: [v1]
                  operations: [CREATE, UPDATE]
                  resources: [deployments]
              validations:
              - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
                messageExpression: "'replicas ' + string(object.spec.replicas) + ' exceed the limit of ' + params.data.maxReplicas"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: {{binding}}}
            spec:
              policyName: {{policy}}
              validationActions: [{{actions}}]
              paramRef: {name: {{paramName}}, namespace: {{_ns}}, parameterNotFoundAction: {{notFound}}}
              matchResources:
                namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: {{_ns}}}
            """, null)).Ok();
        (await _kubectl.RunAsync("create", "configmap", "replica-limit", "-n", _ns, "--from-literal=maxReplicas=3")).Ok();
        return (policy, binding);
    }

    private Task<Kubectl.Result> CreateDeploymentAsync(string name, int replicas) =>
        _kubectl.RunAsync("create", "deployment", name, "-n", _ns, "--image=nginx:1.25", $"--replicas={replicas}");

    [Fact]
    public async Task Deny_RefusesDeploymentOverTheParamsLimit_WithUpstreamMessage()
    {
        var (policy, binding) = await ReplicaLimitAsync("Deny");

        (await CreateDeploymentAsync("small", 2)).Ok();
        var refused = await CreateDeploymentAsync("big", 5);

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(
            $"deployments.apps \"big\" is forbidden: ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: replicas 5 exceed the limit of 3",
            refused.Error,
            StringComparison.Ordinal);
        Assert.NotEqual(0, (await _kubectl.RunAsync("get", "deployment", "big", "-n", _ns)).ExitCode);

        // Updates are checked too; the Status is 422 Invalid with the message as its one cause.
        var patched = await _kubectl.RunAsync("patch", "deployment", "small", "-n", _ns, "-p", "{\"spec\":{\"replicas\":4}}");
        Assert.NotEqual(0, patched.ExitCode);
        Assert.Contains(
            $"The deployments \"small\" is invalid: : ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: replicas 4 exceed the limit of 3",
            patched.Error,
            StringComparison.Ordinal);

        // The limit follows the params object.
        (await _kubectl.RunAsync("patch", "configmap", "replica-limit", "-n", _ns, "-p", "{\"data\":{\"maxReplicas\":\"6\"}}")).Ok();
        (await CreateDeploymentAsync("big", 5)).Ok();
    }

    [Fact]
    public async Task Warn_AdmitsWithAWarningHeader()
    {
        var (policy, binding) = await ReplicaLimitAsync("Warn");

        var admitted = (await CreateDeploymentAsync("warned", 5)).Ok();

        Assert.Contains(
            $"Warning: Validation failed for ValidatingAdmissionPolicy '{policy}' with binding '{binding}': replicas 5 exceed the limit of 3",
            admitted.Error,
            StringComparison.Ordinal);
        (await _kubectl.RunAsync("get", "deployment", "warned", "-n", _ns)).Ok();
    }

    [Fact]
    public async Task MissingParams_DenyOrAllow_AsTheBindingSays()
    {
        var (policy, binding) = await ReplicaLimitAsync("Deny", paramName: "absent");

        var refused = await CreateDeploymentAsync("unparameterised", 1);

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(
            $"ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
            refused.Error,
            StringComparison.Ordinal);

        (await _kubectl.RunAsync("patch", "validatingadmissionpolicybinding", binding, "--type=merge", "-p", "{\"spec\":{\"paramRef\":{\"parameterNotFoundAction\":\"Allow\"}}}")).Ok();
        (await CreateDeploymentAsync("unparameterised", 1)).Ok();
    }

    [Fact]
    public async Task VariablesNamespaceObjectRequestAuthorizerAndMatchConditions_AreAvailable_AndReasonSetsTheCode()
    {
        var policy = $"prod-rules-{_ns}";
        _created.Add($"validatingadmissionpolicybinding/{policy}");
        _created.Add($"validatingadmissionpolicy/{policy}");
        (await _kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: [""]
                  apiVersions: [v1]
                  operations: [CREATE]
                  resources: [configmaps]
              matchConditions:
              - name: not-exempt
                expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"
              variables:
              - name: prod
                expression: "namespaceObject.metadata.labels['env'] == 'prod'"
              - name: owner
                expression: "has(object.metadata.annotations) && 'owner' in object.metadata.annotations ? object.metadata.annotations['owner'] : ''"
              validations:
              - expression: "authorizer.group('').resource('configmaps').namespace(request.namespace).check('create').allowed()"
                message: the requester may not create config maps
              - expression: "!authorizer.serviceAccount(request.namespace, 'nobody').group('').resource('secrets').namespace(request.namespace).check('list').allowed()"
                message: a service account without bindings may list secrets
              - expression: "!variables.prod || variables.owner != ''"
                reason: Forbidden
                messageExpression: "'config maps in ' + request.namespace + ' need an owner (asked by ' + request.userInfo.username + ')'"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: {{policy}}}
            spec:
              policyName: {{policy}}
              validationActions: [Deny]
              matchResources:
                namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: {{_ns}}}
            """, null)).Ok();

        var orphan = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orphan\n";
        var refused = await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], orphan, null);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Error from server (Forbidden)", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"configmaps \"orphan\" is forbidden: ValidatingAdmissionPolicy '{policy}' with binding '{policy}' denied request: config maps in {_ns} need an owner (asked by ", refused.Error, StringComparison.Ordinal);

        (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\n  annotations: {owner: team-a}\n", null)).Ok();
        (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: exempt\n  labels: {exempt: \"yes\"}\n", null)).Ok();
        (await _kubectl.RunAsync("label", "namespace", _ns, "env=dev", "--overwrite")).Ok();
        (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], orphan, null)).Ok();
    }

    [Fact]
    public async Task PolicyThatDoesNotCompile_IsRefused_AndBindingNeedsAnAction()
    {
        var refused = await _kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: broken-{{_ns}}}
            spec:
              matchConstraints:
                resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
              validations:
              - expression: "object.metadata.name =="
            """, null);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"The ValidatingAdmissionPolicy \"broken-{_ns}\" is invalid: spec.validations[0].expression: Invalid value: \"object.metadata.name ==\": compilation failed: ERROR: <input>:1:", refused.Error, StringComparison.Ordinal);

        var binding = await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: actionless-{_ns}}}\nspec: {{policyName: whatever}}\n", null);
        Assert.NotEqual(0, binding.ExitCode);
        Assert.Contains("spec.validationActions: Required value: at least one validation action is required", binding.Error, StringComparison.Ordinal);
    }
}
