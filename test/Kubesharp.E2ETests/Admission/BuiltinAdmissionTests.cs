namespace Kubesharp.E2ETests.Admission;

/// <summary>The built-in admission plugins through the real kubectl against the real server.</summary>
[Collection(KubectlCollection.Name)]
public sealed class BuiltinAdmissionTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "adm" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();

    public async Task DisposeAsync() => await _kubectl.RunAsync("delete", "namespace", _ns, "--wait=false");

    private Task<Kubectl.Result> ApplyAsync(string yaml) => _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], yaml, null);

    private static string Pod(string name, string containerExtra = "", string resources = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}}
        spec:
          tolerations: [{key: kubesharp.io/simulated, operator: Exists}]
          containers:
          - name: app
            image: nginx:1.25
        {{containerExtra}}
        {{resources}}
        """;

    private const string RestrictedContext = """
            securityContext:
              allowPrivilegeEscalation: false
              runAsNonRoot: true
              capabilities: {drop: [ALL]}
              seccompProfile: {type: RuntimeDefault}
        """;

    [Fact]
    public async Task RestrictedPodSecurity_RefusesPrivilegedPod_AdmitsRestrictedOne()
    {
        (await _kubectl.RunAsync("label", "namespace", _ns, "pod-security.kubernetes.io/enforce=restricted")).Ok();

        var refused = await ApplyAsync(Pod("privileged", "    securityContext: {privileged: true}"));

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"pods \"privileged\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"app\" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")", refused.Error, StringComparison.Ordinal);
        (await ApplyAsync(Pod("restricted", RestrictedContext))).Ok();
    }

    [Fact]
    public async Task BaselineWarnMode_AdmitsWithWarning()
    {
        (await _kubectl.RunAsync("label", "namespace", _ns, "pod-security.kubernetes.io/warn=baseline", "pod-security.kubernetes.io/warn-version=v1.32")).Ok();

        var admitted = (await ApplyAsync(Pod("hostport", "    ports: [{containerPort: 80, hostPort: 8080}]"))).Ok();

        Assert.Contains("Warning: would violate PodSecurity \"baseline:v1.32\": hostPort (container \"app\" uses hostPort 8080)", admitted.Error, StringComparison.Ordinal);
        (await _kubectl.RunAsync("get", "pod", "hostport", "-n", _ns)).Ok();
    }

    [Fact]
    public async Task LimitRange_DefaultsContainerResources_AndRefusesOverMax()
    {
        (await ApplyAsync("""
            apiVersion: v1
            kind: LimitRange
            metadata: {name: limits}
            spec:
              limits:
              - type: Container
                default: {cpu: 500m, memory: 256Mi}
                defaultRequest: {cpu: 100m}
                max: {cpu: "1"}
            """)).Ok();

        (await ApplyAsync(Pod("defaulted"))).Ok();
        var resources = (await _kubectl.RunAsync("get", "pod", "defaulted", "-n", _ns, "-o", "jsonpath={.spec.containers[0].resources}")).Ok();
        Assert.Equal("""{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"256Mi"}}""", resources.Output);

        var refused = await ApplyAsync(Pod("greedy", "    resources: {limits: {cpu: \"2\"}}"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("pods \"greedy\" is forbidden: maximum cpu usage per Container is 1, but limit is 2", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Priority_ResolvesClassName_AndRefusesUnknownClass()
    {
        (await ApplyAsync(Pod("critical", "") .Replace("  tolerations:", "  priorityClassName: system-cluster-critical\n  tolerations:", StringComparison.Ordinal))).Ok();
        var priority = (await _kubectl.RunAsync("get", "pod", "critical", "-n", _ns, "-o", "jsonpath={.spec.priority}")).Ok();
        Assert.Equal("2000000000", priority.Output);

        var refused = await ApplyAsync(Pod("unknown", "").Replace("  tolerations:", "  priorityClassName: no-such-class\n  tolerations:", StringComparison.Ordinal));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("pods \"unknown\" is forbidden: no PriorityClass with name no-such-class was found", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NamespaceLifecycle_RefusesDeletingDefaultNamespace()
    {
        var refused = await _kubectl.RunAsync("delete", "namespace", "default");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("namespaces \"default\" is forbidden: this namespace may not be deleted", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResourceQuota_RefusesThePodPastTheLimit_AndKeepsUsedCurrent()
    {
        (await ApplyAsync("""
            apiVersion: v1
            kind: ResourceQuota
            metadata: {name: pod-count}
            spec:
              hard: {pods: "2", count/configmaps: "10", requests.cpu: "1"}
            """)).Ok();
        (await _kubectl.RunAsync("wait", "-n", _ns, "resourcequota/pod-count", "--for=jsonpath={.status.used.pods}=0", "--timeout=60s")).Ok();

        (await ApplyAsync(Pod("first", "    resources: {requests: {cpu: 200m}}"))).Ok();
        (await ApplyAsync(Pod("second", "    resources: {requests: {cpu: 300m}}"))).Ok();
        var refused = await ApplyAsync(Pod("third"));

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("pods \"third\" is forbidden: exceeded quota: pod-count, requested: pods=1, used: pods=2, limited: pods=2", refused.Error, StringComparison.Ordinal);
        (await _kubectl.RunAsync("wait", "-n", _ns, "resourcequota/pod-count", "--for=jsonpath={.status.used.requests\\.cpu}=500m", "--timeout=60s")).Ok();

        (await _kubectl.RunAsync("delete", "pod", "first", "-n", _ns, "--grace-period=0", "--force")).Ok();
        (await _kubectl.RunAsync("wait", "-n", _ns, "resourcequota/pod-count", "--for=jsonpath={.status.used.pods}=1", "--timeout=60s")).Ok();
        (await ApplyAsync(Pod("third"))).Ok();
    }

    [Fact]
    public async Task ResourceQuota_ChargesAServiceBecomingNodePort_OnUpdate()
    {
        (await ApplyAsync("""
            apiVersion: v1
            kind: ResourceQuota
            metadata: {name: node-ports}
            spec:
              hard: {services.nodeports: "1"}
            """)).Ok();
        (await _kubectl.RunAsync("wait", "-n", _ns, "resourcequota/node-ports", "--for=jsonpath={.status.used.services\\.nodeports}=0", "--timeout=60s")).Ok();
        foreach (var name in new[] { "first", "second" })
        {
            (await ApplyAsync($"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  ports: [{{port: 80}}]\n")).Ok();
        }

        (await _kubectl.RunAsync("patch", "service", "first", "-n", _ns, "-p", "{\"spec\":{\"type\":\"NodePort\"}}")).Ok();
        var refused = await _kubectl.RunAsync("patch", "service", "second", "-n", _ns, "-p", "{\"spec\":{\"type\":\"NodePort\"}}");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("services \"second\" is forbidden: exceeded quota: node-ports, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodTolerationRestriction_MergesNamespaceDefaults_AndRefusesTolerationsOutsideTheWhitelist()
    {
        (await _kubectl.RunAsync(
            "annotate", "namespace", _ns,
            """scheduler.alpha.kubernetes.io/defaultTolerations=[{"key":"dedicated","operator":"Equal","value":"team-a","effect":"NoSchedule"}]""",
            """scheduler.alpha.kubernetes.io/tolerationsWhitelist=[{"key":"dedicated","operator":"Exists"},{"key":"kubesharp.io/simulated","operator":"Exists"},{"key":"node.kubernetes.io/not-ready","operator":"Exists"},{"key":"node.kubernetes.io/unreachable","operator":"Exists"}]""")).Ok();

        (await ApplyAsync(Pod("tolerated"))).Ok();
        var tolerations = (await _kubectl.RunAsync("get", "pod", "tolerated", "-n", _ns, "-o", "jsonpath={.spec.tolerations[*].key}")).Ok();
        Assert.Contains("dedicated", tolerations.Output, StringComparison.Ordinal);

        var refused = await ApplyAsync(Pod("gpu").Replace("  tolerations: [", "  tolerations: [{key: gpu, operator: Exists}, ", StringComparison.Ordinal));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("pods \"gpu\" is forbidden: pod tolerations (possibly merged with namespace default tolerations) conflict with its namespace whitelist", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TaintNodesByCondition_TaintsANewNodeNotReady()
    {
        var node = "tainted-" + _ns;
        try
        {
            var created = (await _kubectl.RunAsync(["create", "-f", "-", "-o", "jsonpath={.spec.taints}"], $"apiVersion: v1\nkind: Node\nmetadata:\n  name: {node}\n", null)).Ok();

            Assert.Equal("""[{"effect":"NoSchedule","key":"node.kubernetes.io/not-ready"}]""", created.Output);
        }
        finally
        {
            await _kubectl.RunAsync("delete", "node", node, "--ignore-not-found");
        }
    }
}
