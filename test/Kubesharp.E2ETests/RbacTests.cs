using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests;

/// <summary>
/// Access control through the real kubectl: users authenticated by client certificates issued from the cluster CA
/// (CN = user, O = groups), allowed exactly what their RoleBindings and ClusterRoleBindings grant.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed class RbacTests(KubectlServer server) : IDisposable
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-rbac").FullName;
    private readonly List<string> _cleanup = [];

    private string Ns(string suffix) => $"rbac-{_id}-{suffix}";

    private string User(string name) => $"{name}-{_id}";

    private Task<Kubectl.Result> Admin(params string[] args) => _kubectl.RunAsync(args);

    private async Task AdminApplyAsync(string yaml) => (await _kubectl.RunAsync(["apply", "-f", "-"], yaml, null)).Ok();

    private async Task NamespacesAsync(params string[] names)
    {
        foreach (var name in names)
        {
            await AdminApplyAsync($"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
            _cleanup.Add($"namespace/{name}");
        }
    }

    /// <summary>A kubeconfig for <paramref name="user"/> in <paramref name="groups"/>, with a client certificate from the cluster CA.</summary>
    private string Kubeconfig(string user, params string[] groups)
    {
        var path = Path.Combine(_dir, user + ".yaml");
        if (File.Exists(path))
        {
            return path;
        }

        var tls = Path.Combine(server.DataDir, "server", "tls");
        using var ca = X509Certificate2.CreateFromPemFile(Path.Combine(tls, "ca.crt"), Path.Combine(tls, "ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        foreach (var group in groups)
        {
            subject.AddOrganizationName(group);
        }

        subject.AddCommonName(user);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), RandomNumberGenerator.GetBytes(16));
        var serverUrl = File.ReadAllLines(server.Kubeconfig).Select(l => l.Trim()).First(l => l.StartsWith("server:", StringComparison.Ordinal))["server:".Length..].Trim();
        File.WriteAllText(path, Kubesharp.ApiServer.Security.Kubeconfig.Render(serverUrl, ca.ExportCertificatePem(), certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), user));
        return path;
    }

    private Task<Kubectl.Result> As(string kubeconfig, params string[] args) =>
        _kubectl.RunAsync(args, null, new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig });

    private Task<Kubectl.Result> AsWithInput(string kubeconfig, string stdin, params string[] args) =>
        _kubectl.RunAsync(args, stdin, new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig });

    private static void AssertForbidden(Kubectl.Result result, string message)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Error from server (Forbidden): ", result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoleBinding_AllowsItsVerbsInItsNamespace_RefusesTheRest()
    {
        var (a, b) = (Ns("a"), Ns("b"));
        var bob = User("bob");
        await NamespacesAsync(a, b);
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: pod-reader, namespace: {{a}} }
            rules:
            - apiGroups: [""]
              resources: [pods, pods/log]
              verbs: [get, list, watch]
            - apiGroups: [""]
              resources: [configmaps]
              resourceNames: [allowed]
              verbs: [get, update]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: bob-reads, namespace: {{a}} }
            subjects: [{kind: User, name: {{bob}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
            """);
        (await Admin("create", "configmap", "allowed", "-n", a, "--from-literal=k=v")).Ok();
        (await Admin("create", "configmap", "other", "-n", a, "--from-literal=k=v")).Ok();
        var config = Kubeconfig(bob, "devs");

        (await As(config, "get", "pods", "-n", a)).Ok();
        AssertForbidden(await As(config, "get", "pods", "-n", b), $"pods is forbidden: User \"{bob}\" cannot list resource \"pods\" in API group \"\" in the namespace \"{b}\"");
        AssertForbidden(await As(config, "get", "nodes"), $"nodes is forbidden: User \"{bob}\" cannot list resource \"nodes\" in API group \"\" at the cluster scope");
        AssertForbidden(await As(config, "delete", "pod", "missing", "-n", a), $"pods \"missing\" is forbidden: User \"{bob}\" cannot delete resource \"pods\" in API group \"\" in the namespace \"{a}\"");
        AssertForbidden(await As(config, "get", "deployments.apps", "-n", a), $"deployments.apps is forbidden: User \"{bob}\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"{a}\"");
        (await As(config, "get", "configmap", "allowed", "-n", a)).Ok();
        AssertForbidden(await As(config, "get", "configmap", "other", "-n", a), $"configmaps \"other\" is forbidden: User \"{bob}\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"{a}\"");
        AssertForbidden(await As(config, "get", "configmaps", "-n", a), $"configmaps is forbidden: User \"{bob}\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"{a}\"");

        Assert.Equal("yes", (await As(config, "auth", "can-i", "list", "pods", "-n", a)).Ok().Output.Trim());
        Assert.Equal("yes", (await As(config, "auth", "can-i", "get", "pods", "--subresource=log", "-n", a)).Ok().Output.Trim());
        var denied = await As(config, "auth", "can-i", "delete", "pods", "-n", a);
        Assert.Equal(1, denied.ExitCode);
        Assert.Equal("no", denied.Output.Trim());
        Assert.Equal("no", (await As(config, "auth", "can-i", "list", "pods", "-n", b)).Output.Trim());
        Assert.Equal("no", (await Admin("auth", "can-i", "list", "pods", "-n", b, "--as", bob)).Output.Trim());
        Assert.Equal("yes", (await Admin("auth", "can-i", "list", "pods", "-n", a, "--as", bob)).Ok().Output.Trim());

        var list = (await As(config, "auth", "can-i", "--list", "-n", a)).Ok().Output;
        Assert.Contains("pods/log", list, StringComparison.Ordinal);
        Assert.Contains("selfsubjectaccessreviews.authorization.k8s.io", list, StringComparison.Ordinal);

        var whoami = JsonNode.Parse((await As(config, "auth", "whoami", "-o", "json")).Ok().Output)!;
        Assert.Equal(bob, (string?)whoami["status"]!["userInfo"]!["username"]);
        var groups = whoami["status"]!["userInfo"]!["groups"]!.AsArray().Select(g => (string?)g).ToList();
        Assert.Contains("devs", groups);
        Assert.Contains("system:authenticated", groups);
    }

    [Fact]
    public async Task NonResourceUrls_AreGrantedByPathWithTrailingWildcard()
    {
        var carol = User("carol");
        var dave = User("dave");
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: debug-reader-{{_id}} }
            rules:
            - nonResourceURLs: [/debug/*]
              verbs: [get]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: debug-reader-{{_id}} }
            subjects: [{kind: User, name: {{carol}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: ClusterRole, name: debug-reader-{{_id}}, apiGroup: rbac.authorization.k8s.io}
            """);
        _cleanup.Add($"clusterrole/debug-reader-{_id}");
        _cleanup.Add($"clusterrolebinding/debug-reader-{_id}");

        (await As(Kubeconfig(carol), "get", "--raw", "/debug/api_priority_and_fairness/dump_priority_levels")).Ok();
        AssertForbidden(await As(Kubeconfig(dave), "get", "--raw", "/debug/api_priority_and_fairness/dump_priority_levels"),
            $"forbidden: User \"{dave}\" cannot get path \"/debug/api_priority_and_fairness/dump_priority_levels\"");
        // Health, version and discovery stay open to every authenticated user.
        (await As(Kubeconfig(dave), "get", "--raw", "/healthz")).Ok();
        (await As(Kubeconfig(dave), "version")).Ok();
        (await As(Kubeconfig(dave), "api-resources")).Ok();
    }

    [Fact]
    public async Task AggregatedClusterRoles_GainTheRulesOfLabelledRoles()
    {
        var ns = Ns("agg");
        var erin = User("erin");
        await NamespacesAsync(ns);
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: erin-views, namespace: {{ns}} }
            subjects: [{kind: User, name: {{erin}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
            """);
        var config = Kubeconfig(erin);
        (await As(config, "get", "deployments,services,configmaps", "-n", ns)).Ok();
        AssertForbidden(await As(config, "get", "secrets", "-n", ns), $"secrets is forbidden: User \"{erin}\" cannot list resource \"secrets\" in API group \"\" in the namespace \"{ns}\"");
        Assert.Equal("no", (await As(config, "auth", "can-i", "list", "podtemplates", "-n", ns)).Output.Trim());

        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: widgets-view-{{_id}}
              labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
            rules:
            - apiGroups: [""]
              resources: [podtemplates]
              verbs: [get, list, watch]
            """);
        _cleanup.Add($"clusterrole/widgets-view-{_id}");
        string answer = string.Empty;
        for (var attempt = 0; attempt < 100 && answer != "yes"; attempt++)
        {
            answer = (await As(config, "auth", "can-i", "list", "podtemplates", "-n", ns)).Output.Trim();
            if (answer != "yes")
            {
                await Task.Delay(200);
            }
        }

        Assert.Equal("yes", answer);
        // view is aggregated into edit and edit into admin.
        var inAdmin = false;
        for (var attempt = 0; attempt < 100 && !inAdmin; attempt++)
        {
            var admin = JsonNode.Parse((await Admin("get", "clusterrole", "admin", "-o", "json")).Ok().Output)!;
            inAdmin = admin["rules"]!.AsArray().Any(r => r!["resources"]?.AsArray().Any(g => (string?)g == "podtemplates") == true);
            if (!inAdmin)
            {
                await Task.Delay(200);
            }
        }

        Assert.True(inAdmin, "the admin role did not gain the rule aggregated into view and edit");
    }

    [Fact]
    public async Task RoleAndBindingWrites_CannotGrantMoreThanTheWriterHolds()
    {
        var ns = Ns("esc");
        var frank = User("frank");
        await NamespacesAsync(ns);
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: role-writer, namespace: {{ns}} }
            rules:
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [roles, rolebindings]
              verbs: [create, get, list, update, patch]
            - apiGroups: [""]
              resources: [pods]
              verbs: [get, list]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: frank-writes, namespace: {{ns}} }
            subjects: [{kind: User, name: {{frank}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: Role, name: role-writer, apiGroup: rbac.authorization.k8s.io}
            """);
        var config = Kubeconfig(frank);
        (await AsWithInput(config, $"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: readers, namespace: {ns}}}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n", "create", "-f", "-")).Ok();

        var escalate = await AsWithInput(config, $"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: deleters, namespace: {ns}}}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, delete]\n", "create", "-f", "-");
        AssertForbidden(escalate, $"roles.rbac.authorization.k8s.io \"deleters\" is forbidden: user \"{frank}\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:");
        Assert.Contains("Verbs:[\"delete\"]", escalate.Error, StringComparison.Ordinal);

        var bindAdmin = $"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: frank-admin, namespace: {ns}}}\nsubjects: [{{kind: User, name: {frank}, apiGroup: rbac.authorization.k8s.io}}]\nroleRef: {{kind: ClusterRole, name: admin, apiGroup: rbac.authorization.k8s.io}}\n";
        AssertForbidden(await AsWithInput(config, bindAdmin, "create", "-f", "-"), $"rolebindings.rbac.authorization.k8s.io \"frank-admin\" is forbidden: user \"{frank}\"");
        // A binding to a role whose rules the writer holds is fine.
        (await AsWithInput(config, $"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: others-read, namespace: {ns}}}\nsubjects: [{{kind: Group, name: readers, apiGroup: rbac.authorization.k8s.io}}]\nroleRef: {{kind: Role, name: readers, apiGroup: rbac.authorization.k8s.io}}\n", "create", "-f", "-")).Ok();

        // The bind verb on the role lifts the check for that role only.
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: admin-binder, namespace: {{ns}} }
            rules:
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [clusterroles]
              resourceNames: [admin]
              verbs: [bind]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: frank-binds, namespace: {{ns}} }
            subjects: [{kind: User, name: {{frank}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: Role, name: admin-binder, apiGroup: rbac.authorization.k8s.io}
            """);
        (await AsWithInput(config, bindAdmin, "create", "-f", "-")).Ok();
        (await As(config, "delete", "pod", "missing", "-n", ns, "--ignore-not-found")).Ok();
    }

    [Fact]
    public async Task Impersonation_NeedsTheImpersonateVerb()
    {
        var ns = Ns("imp");
        var (grace, heidi) = (User("grace"), User("heidi"));
        await NamespacesAsync(ns);
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: heidi-edits, namespace: {{ns}} }
            subjects: [{kind: User, name: {{heidi}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
            """);
        var config = Kubeconfig(grace);

        // The admin acting as heidi gets exactly heidi's rights.
        (await Admin("create", "configmap", "made-as-heidi", "-n", ns, "--from-literal=a=b", "--as", heidi)).Ok();
        AssertForbidden(await Admin("get", "nodes", "--as", heidi), $"nodes is forbidden: User \"{heidi}\" cannot list resource \"nodes\" in API group \"\" at the cluster scope");

        AssertForbidden(await As(config, "get", "configmaps", "-n", ns, "--as", heidi),
            $"users \"{heidi}\" is forbidden: User \"{grace}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope");
        await AdminApplyAsync($$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: impersonate-{{_id}} }
            rules:
            - apiGroups: [""]
              resources: [users]
              resourceNames: [{{heidi}}]
              verbs: [impersonate]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: impersonate-{{_id}} }
            subjects: [{kind: User, name: {{grace}}, apiGroup: rbac.authorization.k8s.io}]
            roleRef: {kind: ClusterRole, name: impersonate-{{_id}}, apiGroup: rbac.authorization.k8s.io}
            """);
        _cleanup.Add($"clusterrole/impersonate-{_id}");
        _cleanup.Add($"clusterrolebinding/impersonate-{_id}");

        var configmaps = (await As(config, "get", "configmaps", "-n", ns, "--as", heidi, "-o", "name")).Ok();
        Assert.Contains("configmap/made-as-heidi", configmaps.Output, StringComparison.Ordinal);
        var whoami = JsonNode.Parse((await As(config, "auth", "whoami", "-o", "json", "--as", heidi)).Ok().Output)!;
        Assert.Equal(heidi, (string?)whoami["status"]!["userInfo"]!["username"]);
        // Groups need their own grant.
        AssertForbidden(await As(config, "get", "configmaps", "-n", ns, "--as", heidi, "--as-group", "system:masters"),
            $"groups \"system:masters\" is forbidden: User \"{grace}\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope");
        AssertForbidden(await As(config, "get", "configmaps", "-n", ns),
            $"configmaps is forbidden: User \"{grace}\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"{ns}\"");
    }

    public void Dispose()
    {
        foreach (var item in _cleanup)
        {
            using var process = _kubectl.Start(["delete", item, "--wait=false", "--ignore-not-found"]);
            process.WaitForExit(30_000);
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
