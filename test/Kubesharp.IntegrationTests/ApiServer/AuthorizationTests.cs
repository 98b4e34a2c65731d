using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>The authorization stage over HTTP: node authorizer, access reviews, bootstrap policy, many bindings.</summary>
[Collection(ServerCollection.Name)]
public sealed class AuthorizationTests(TestServer server)
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task BootstrapPolicy_DefaultRolesAndBindingsExist()
    {
        foreach (var role in new[] { "cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery", "system:public-info-viewer", "system:node", "system:kube-scheduler", "system:kube-controller-manager", "system:node-proxier" })
        {
            var (status, body) = await server.GetAsync($"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("true", (string?)body!["metadata"]!["annotations"]!["rbac.authorization.kubernetes.io/autoupdate"]);
        }

        var (_, binding) = await server.GetAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin");
        Assert.Equal("system:masters", (string?)binding!["subjects"]![0]!["name"]);
    }

    [Fact]
    public async Task NodeUser_ReadsOnlyWhatItsPodsUse_AndChangesOnlyItsOwnPods()
    {
        var ns = "node-" + _id;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
        foreach (var name in new[] { "mine", "theirs" })
        {
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/secrets", $$$"""{"metadata":{"name":"{{{name}}}"},"stringData":{"a":"b"}}""")).Status);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", $$$"""{"metadata":{"name":"{{{name}}}"},"data":{"a":"b"}}""")).Status);
        }

        await CreatePodAsync(ns, "on-n1", "n1-" + _id, "mine");
        await CreatePodAsync(ns, "on-n2", "n2-" + _id, "theirs");
        using var node = UserClient($"system:node:n1-{_id}", "system:nodes");

        Assert.Equal(HttpStatusCode.OK, (await node.GetAsync($"/api/v1/namespaces/{ns}/secrets/mine")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.GetAsync($"/api/v1/namespaces/{ns}/configmaps/mine")).StatusCode);
        using var refused = await node.GetAsync($"/api/v1/namespaces/{ns}/secrets/theirs");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var status = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal($"secrets \"theirs\" is forbidden: User \"system:node:n1-{_id}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"{ns}\": no relationship found between node 'n1-{_id}' and this object", (string?)status["message"]);
        Assert.Equal("Forbidden", (string?)status["reason"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await node.GetAsync($"/api/v1/namespaces/{ns}/configmaps/theirs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await node.GetAsync($"/api/v1/namespaces/{ns}/secrets")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await node.GetAsync($"/api/v1/pods?fieldSelector=spec.nodeName%3Dn1-{_id}")).StatusCode);

        var patch = new StringContent("""{"status":{"message":"seen"}}""", Encoding.UTF8, "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, (await node.PatchAsync($"/api/v1/namespaces/{ns}/pods/on-n1/status", patch)).StatusCode);
        patch = new StringContent("""{"status":{"message":"seen"}}""", Encoding.UTF8, "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.Forbidden, (await node.PatchAsync($"/api/v1/namespaces/{ns}/pods/on-n2/status", patch)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await node.DeleteAsync($"/api/v1/namespaces/{ns}/pods/on-n2")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await node.PatchAsync($"/api/v1/nodes/n2-{_id}", new StringContent("{}", Encoding.UTF8, "application/merge-patch+json"))).StatusCode);
        // Another user in system:nodes by name only gets nothing from the node authorizer.
        using var impostor = UserClient("not-a-node", "system:nodes");
        Assert.Equal(HttpStatusCode.Forbidden, (await impostor.GetAsync($"/api/v1/namespaces/{ns}/secrets/mine")).StatusCode);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
    }

    [Fact]
    public async Task SubjectAccessReview_AnswersForTheNamedUser()
    {
        var ns = "sar-" + _id;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", $$$"""
            {"metadata":{"name":"sar-{{{_id}}}"},"subjects":[{"kind":"Group","name":"readers-{{{_id}}}","apiGroup":"rbac.authorization.k8s.io"}],
             "roleRef":{"kind":"ClusterRole","name":"system:aggregate-to-view","apiGroup":"rbac.authorization.k8s.io"}}
            """)).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterroles", $$$"""
            {"metadata":{"name":"scale-{{{_id}}}"},"rules":[{"apiGroups":["*"],"resources":["*/scale"],"verbs":["update"]}]}
            """)).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", $$$"""
            {"metadata":{"name":"scale-{{{_id}}}"},"subjects":[{"kind":"ServiceAccount","name":"scaler","namespace":"{{{ns}}}"}],
             "roleRef":{"kind":"ClusterRole","name":"scale-{{{_id}}}","apiGroup":"rbac.authorization.k8s.io"}}
            """)).Status);

        Assert.True(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"default","verb":"get","resource":"configmaps"},"user":"x","groups":["readers-{{{_id}}}"]}"""));
        Assert.False(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"kube-system","verb":"get","resource":"configmaps"},"user":"x","groups":["readers-{{{_id}}}"]}"""));
        Assert.False(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"default","verb":"get","resource":"secrets"},"user":"x","groups":["readers-{{{_id}}}"]}"""));
        Assert.True(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"a","verb":"update","group":"apps","resource":"deployments","subresource":"scale"},"user":"system:serviceaccount:{{{ns}}}:scaler"}"""));
        Assert.False(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"a","verb":"update","group":"apps","resource":"deployments"},"user":"system:serviceaccount:{{{ns}}}:scaler"}"""));
        Assert.True(await AllowedAsync("""{"nonResourceAttributes":{"path":"/version","verb":"get"},"user":"nobody","groups":["system:unauthenticated"]}"""));
        Assert.False(await AllowedAsync("""{"nonResourceAttributes":{"path":"/api","verb":"get"},"user":"nobody","groups":["system:unauthenticated"]}"""));
        Assert.True(await AllowedAsync("""{"nonResourceAttributes":{"path":"/apis/apps","verb":"get"},"user":"somebody","groups":["system:authenticated"]}"""));

        var (status, body) = await server.PostAsync("/apis/authorization.k8s.io/v1/namespaces/other/localsubjectaccessreviews",
            """{"spec":{"resourceAttributes":{"namespace":"default","verb":"get","resource":"pods"},"user":"x"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("spec.resourceAttributes.namespace must match namespace: other", (string?)body!["message"]);

        await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/sar-{_id}");
        await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/clusterroles/scale-{_id}");
        await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/scale-{_id}");
    }

    [Fact]
    public async Task ThousandBindings_TheBoundUserIsAllowedAndOthersAreNot()
    {
        var ns = "many-" + _id;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", """{"metadata":{"name":"cm"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","create"]}]}""")).Status);
        for (var i = 0; i < 1000; i++)
        {
            var (status, _) = await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", $$$"""
                {"metadata":{"name":"b{{{i}}}"},"subjects":[{"kind":"User","name":"user-{{{i}}}","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"Role","name":"cm","apiGroup":"rbac.authorization.k8s.io"}}
                """);
            Assert.Equal(HttpStatusCode.Created, status);
        }

        using var bound = UserClient("user-999");
        using var unbound = UserClient("user-1000");
        Assert.Equal(HttpStatusCode.OK, (await bound.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await bound.PostAsync($"/api/v1/namespaces/{ns}/configmaps", new StringContent("""{"metadata":{"name":"x"}}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bound.GetAsync("/api/v1/namespaces/default/configmaps")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await unbound.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
    }

    [Fact]
    public async Task RbacChanges_TakeEffectOnTheVeryNextRequest()
    {
        var ns = "changes-" + _id;
        var user = "changer-" + _id;
        var group = "changers-" + _id;
        const string Rbac = "/apis/rbac.authorization.k8s.io/v1";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
        try
        {
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"{Rbac}/namespaces/{ns}/roles", """{"metadata":{"name":"cm"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]}""")).Status);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"{Rbac}/namespaces/{ns}/rolebindings", $$$"""
                {"metadata":{"name":"cm"},"subjects":[{"kind":"User","name":"{{{user}}}","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"Role","name":"cm","apiGroup":"rbac.authorization.k8s.io"}}
                """)).Status);
            using var client = UserClient(user, group);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/v1/namespaces/{ns}/secrets")).StatusCode);
            var (_, review) = await server.PostAsync("/apis/authorization.k8s.io/v1/subjectaccessreviews", $$$"""
                {"spec":{"resourceAttributes":{"namespace":"{{{ns}}}","verb":"list","resource":"configmaps"},"user":"{{{user}}}"}}
                """);
            Assert.Equal($"RBAC: allowed by RoleBinding \"cm/{ns}\" of Role \"cm\" to User \"{user}\"", (string?)review!["status"]!["reason"]);

            // A rule added to the role allows at once.
            Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Put, $"{Rbac}/namespaces/{ns}/roles/cm",
                """{"metadata":{"name":"cm"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]},{"apiGroups":[""],"resources":["secrets"],"verbs":["list"]},{"apiGroups":[""],"resources":["pods/log"],"verbs":["get"]}]}""")).Status);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/namespaces/{ns}/secrets")).StatusCode);
            Assert.True(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"{{{ns}}}","verb":"get","resource":"pods","subresource":"log"},"user":"{{{user}}}"}"""));
            Assert.False(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"{{{ns}}}","verb":"get","resource":"pods"},"user":"{{{user}}}"}"""));
            Assert.False(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"{{{ns}}}","verb":"get","resource":"pods","subresource":"status"},"user":"{{{user}}}"}"""));
            Assert.False(await AllowedAsync($$$"""{"resourceAttributes":{"namespace":"{{{ns}}}","verb":"get","resource":"configmaps","subresource":"log"},"user":"{{{user}}}"}"""));

            // The binding removed: the next request is refused.
            Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, $"{Rbac}/namespaces/{ns}/rolebindings/cm")).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/v1/namespaces/{ns}/secrets")).StatusCode);

            // A group's cluster-wide grant follows its ClusterRole: deleted, refused; created again, allowed.
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"{Rbac}/clusterroles", $$$"""{"metadata":{"name":"{{{group}}}"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["list"]}]}""")).Status);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"{Rbac}/clusterrolebindings", $$$"""
                {"metadata":{"name":"{{{group}}}"},"subjects":[{"kind":"Group","name":"{{{group}}}","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"ClusterRole","name":"{{{group}}}","apiGroup":"rbac.authorization.k8s.io"}}
                """)).Status);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, $"{Rbac}/clusterroles/{group}")).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"{Rbac}/clusterroles", $$$"""{"metadata":{"name":"{{{group}}}"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["list"]}]}""")).Status);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).StatusCode);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"{Rbac}/clusterrolebindings/{group}");
            await server.SendAsync(HttpMethod.Delete, $"{Rbac}/clusterroles/{group}");
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        }
    }

    private async Task<bool> AllowedAsync(string spec)
    {
        var (status, body) = await server.PostAsync("/apis/authorization.k8s.io/v1/subjectaccessreviews", "{\"spec\":" + spec + "}");
        Assert.Equal(HttpStatusCode.Created, status);
        return (bool)body!["status"]!["allowed"]!;
    }

    private async Task CreatePodAsync(string ns, string name, string node, string uses)
    {
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods", $$$"""
            {"metadata":{"name":"{{{name}}}"},"spec":{"nodeName":"{{{node}}}","containers":[{"name":"c","image":"busybox",
              "env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"{{{uses}}}","key":"a"} } }]}],
              "volumes":[{"name":"s","secret":{"secretName":"{{{uses}}}"}}]}}
            """);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    private HttpClient UserClient(string user, params string[] groups)
    {
        var (certificatePem, keyPem) = server.Host.Certificates.IssueClientCertificate(user, groups, TimeProvider.System);
        using var pem = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var ca = X509Certificate2.CreateFromPem(server.Host.Certificates.CaPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [certificate];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, serverCertificate, _, _) =>
        {
            if (serverCertificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(serverCertificate));
        };
        return new HttpClient(handler) { BaseAddress = server.Host.Url, Timeout = TimeSpan.FromSeconds(60) };
    }
}
