using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Security;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Security;

/// <summary>
/// The built-in components' identities, as the server issues them, hold what their bootstrap roles grant and nothing
/// beyond; a node's writes pass NodeRestriction.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ComponentIdentityTests(TestServer server)
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Scheduler_ReadsPodsAndNodes_ButNotSecrets()
    {
        using var scheduler = ClientFor(ComponentIdentities.Scheduler);
        Assert.Equal(HttpStatusCode.OK, (await scheduler.GetAsync("/api/v1/pods")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await scheduler.GetAsync("/api/v1/nodes")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await scheduler.GetAsync("/apis/scheduling.k8s.io/v1/priorityclasses")).StatusCode);
        await AssertForbiddenAsync(scheduler.GetAsync("/api/v1/namespaces/default/secrets"), $"User \"{ComponentIdentities.Scheduler}\" cannot list resource \"secrets\"");
        await AssertForbiddenAsync(scheduler.PostAsync("/api/v1/namespaces/default/configmaps", Json("""{"metadata":{"name":"x"}}""")), "cannot create resource \"configmaps\"");
    }

    [Fact]
    public async Task Scheduler_NamesTheSelectedNodeOnClaims_ButCreatesAndDeletesNoVolumes()
    {
        var claim = "c-" + _id;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/persistentvolumeclaims", $$$"""{"metadata":{"name":"{{{claim}}}"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Mi"} } } }""")).Status);
        using var scheduler = ClientFor(ComponentIdentities.Scheduler);
        using (var patched = await scheduler.PatchAsync($"/api/v1/namespaces/default/persistentvolumeclaims/{claim}", MergePatch("""{"metadata":{"annotations":{"volume.kubernetes.io/selected-node":"n1"}}}""")))
        {
            Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await scheduler.GetAsync("/apis/storage.k8s.io/v1/storageclasses")).StatusCode);
        await AssertForbiddenAsync(scheduler.DeleteAsync($"/api/v1/namespaces/default/persistentvolumeclaims/{claim}"), "cannot delete resource \"persistentvolumeclaims\"");
        await AssertForbiddenAsync(scheduler.PostAsync("/api/v1/persistentvolumes", Json($$$"""{"metadata":{"name":"v-{{{_id}}}"}}""")), "cannot create resource \"persistentvolumes\"");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/persistentvolumeclaims/{claim}");
    }

    [Fact]
    public async Task ControllerManager_ChangesObjects_ButCreatesNoWorkloadsAndGrantsNothing()
    {
        using var controllers = ClientFor(ComponentIdentities.ControllerManager);
        Assert.Equal(HttpStatusCode.OK, (await controllers.GetAsync("/api/v1/secrets")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await controllers.GetAsync("/apis/apps/v1/replicasets")).StatusCode);
        await AssertForbiddenAsync(
            controllers.PostAsync("/apis/apps/v1/namespaces/default/deployments", Json($$$"""{"metadata":{"name":"d-{{{_id}}}"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]} } } }""")),
            "cannot create resource \"deployments\"");
        await AssertForbiddenAsync(
            controllers.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", Json($$$"""{"metadata":{"name":"grab-{{{_id}}}"},"subjects":[{"kind":"User","name":"system:kube-controller-manager","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"ClusterRole","name":"cluster-admin","apiGroup":"rbac.authorization.k8s.io"}}""")),
            "clusterrolebindings");
        using var impersonating = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/configmaps");
        impersonating.Headers.Add("Impersonate-User", "kubesharp-admin");
        await AssertForbiddenAsync(controllers.SendAsync(impersonating), "impersonate");
    }

    [Fact]
    public async Task ProxyAndDns_WatchServices_ButReadNoSecrets()
    {
        using var proxy = ClientFor(ComponentIdentities.Proxy);
        Assert.Equal(HttpStatusCode.OK, (await proxy.GetAsync("/api/v1/services")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await proxy.GetAsync("/apis/discovery.k8s.io/v1/endpointslices")).StatusCode);
        await AssertForbiddenAsync(proxy.GetAsync("/api/v1/secrets"), $"User \"{ComponentIdentities.Proxy}\" cannot list resource \"secrets\"");
        // Pods are readable: the proxy also enforces NetworkPolicies, which select pods.
        Assert.Equal(HttpStatusCode.OK, (await proxy.GetAsync("/api/v1/pods")).StatusCode);

        using var dns = ClientFor(ComponentIdentities.Dns);
        Assert.Equal(HttpStatusCode.OK, (await dns.GetAsync("/api/v1/services")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await dns.GetAsync("/api/v1/pods")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await dns.GetAsync("/apis/discovery.k8s.io/v1/endpointslices")).StatusCode);
        await AssertForbiddenAsync(dns.GetAsync("/api/v1/secrets"), $"User \"{ComponentIdentities.Dns}\" cannot list resource \"secrets\"");
        await AssertForbiddenAsync(dns.DeleteAsync("/api/v1/namespaces/default/services/kubernetes"), "cannot delete resource \"services\"");
    }

    [Fact]
    public async Task Node_RegistersItself_ButNotOthers_AndKeepsToItsLabelsAndTaints()
    {
        var name = "n-" + _id;
        var other = "o-" + _id;
        using var node = ClientFor(ComponentIdentities.NodeUser(name));
        await AssertForbiddenAsync(node.PostAsync("/api/v1/nodes", Json($$$"""{"metadata":{"name":"{{{other}}}"}}""")), $"node \"{name}\" is not allowed to modify node \"{other}\"");
        await AssertForbiddenAsync(
            node.PostAsync("/api/v1/nodes", Json($$$"""{"metadata":{"name":"{{{name}}}","labels":{"node-restriction.kubernetes.io/pool":"a","kubernetes.io/role":"x"} } }""")),
            $"node \"{name}\" is not allowed to set the following labels: kubernetes.io/role, node-restriction.kubernetes.io/pool");
        using (var created = await node.PostAsync("/api/v1/nodes", Json($$$"""
            {"metadata":{"name":"{{{name}}}","labels":{"kubernetes.io/hostname":"{{{name}}}","kubernetes.io/os":"linux","node.kubernetes.io/exclude-from-external-load-balancers":"true","example.com/rack":"r1"}},
             "spec":{"taints":[{"key":"example.com/new","effect":"NoSchedule"}]}}
            """)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/nodes", $$$"""{"metadata":{"name":"{{{other}}}"}}""")).Status);
        await AssertForbiddenAsync(node.PatchAsync($"/api/v1/nodes/{other}", MergePatch("""{"metadata":{"labels":{"a":"b"}}}""")), $"node '{name}' cannot modify node '{other}'");
        await AssertForbiddenAsync(node.PatchAsync($"/api/v1/nodes/{other}/status", MergePatch("""{"status":{"phase":"Running"}}""")), $"node '{name}' cannot modify node '{other}'");
        await AssertForbiddenAsync(
            node.PatchAsync($"/api/v1/nodes/{name}", MergePatch("""{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":"b"}}}""")),
            $"node \"{name}\" is not allowed to modify labels: node-restriction.kubernetes.io/pool");
        await AssertForbiddenAsync(
            node.PatchAsync($"/api/v1/nodes/{name}", MergePatch("""{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":"true","kubernetes.io/os":null}}}""")),
            $"node \"{name}\" is not allowed to modify labels: node-role.kubernetes.io/control-plane");
        await AssertForbiddenAsync(node.PatchAsync($"/api/v1/nodes/{name}", MergePatch("""{"spec":{"taints":null}}""")), $"node \"{name}\" is not allowed to modify taints");
        using (var allowed = await node.PatchAsync($"/api/v1/nodes/{name}", MergePatch("""{"metadata":{"labels":{"example.com/rack":"r2","kubelet.kubernetes.io/x":"y"}}}""")))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using (var status = await node.PatchAsync($"/api/v1/nodes/{name}/status", MergePatch("""{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ok"}]}}""")))
        {
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        }

        await server.SendAsync(HttpMethod.Delete, $"/api/v1/nodes/{name}");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/nodes/{other}");
    }

    [Fact]
    public async Task Node_WritesOnlyItsOwnLease()
    {
        var name = "l-" + _id;
        await server.PostAsync("/api/v1/namespaces", """{"metadata":{"name":"kube-node-lease"}}""");
        using var node = ClientFor(ComponentIdentities.NodeUser(name));
        await AssertForbiddenAsync(
            node.PostAsync("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", Json($$$"""{"metadata":{"name":"someone-else-{{{_id}}}"},"spec":{"holderIdentity":"x"}}""")),
            "can only access node lease with the same name as the requesting node");
        using (var own = await node.PostAsync("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", Json($$$"""{"metadata":{"name":"{{{name}}}"},"spec":{"holderIdentity":"{{{name}}}"}}""")))
        {
            Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", $$$"""{"metadata":{"name":"other-{{{_id}}}"}}""")).Status);
        await AssertForbiddenAsync(node.PatchAsync($"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/other-{_id}", MergePatch("""{"spec":{"holderIdentity":"me"}}""")), "can only access node lease");
        await AssertForbiddenAsync(node.PostAsync("/apis/coordination.k8s.io/v1/namespaces/default/leases", Json($$$"""{"metadata":{"name":"{{{name}}}"}}""")), "can only access node lease");
        await server.SendAsync(HttpMethod.Delete, $"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}");
        await server.SendAsync(HttpMethod.Delete, $"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/other-{_id}");
    }

    [Fact]
    public async Task Node_CreatesOnlyMirrorPodsOfItsOwn_AndChangesOnlyItsPodsStatus()
    {
        var ns = "nr-" + _id;
        var name = "m-" + _id;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/secrets", """{"metadata":{"name":"unrelated"},"stringData":{"a":"b"}}""")).Status);
        using var node = ClientFor(ComponentIdentities.NodeUser(name));
        await AssertForbiddenAsync(node.GetAsync($"/api/v1/namespaces/{ns}/secrets/unrelated"), "no relationship found between node");

        await AssertForbiddenAsync(node.PostAsync($"/api/v1/namespaces/{ns}/pods", Json(Pod("plain", name, null, string.Empty))), $"pod does not have \"kubernetes.io/config.mirror\" annotation, node \"{name}\" can only create mirror pods");
        await AssertForbiddenAsync(node.PostAsync($"/api/v1/namespaces/{ns}/pods", Json(Pod("elsewhere", "other-" + _id, "x", string.Empty))), $"node \"{name}\" can only create pods with spec.nodeName set to itself");
        await AssertForbiddenAsync(
            node.PostAsync($"/api/v1/namespaces/{ns}/pods", Json(Pod("secretive", name, "x", ""","volumes":[{"name":"s","secret":{"secretName":"unrelated"}}]"""))),
            $"node \"{name}\" can not create pods that reference secrets");
        using (var mirror = await node.PostAsync($"/api/v1/namespaces/{ns}/pods", Json(Pod("static", name, "x", string.Empty))))
        {
            Assert.Equal(HttpStatusCode.Created, mirror.StatusCode);
        }

        await AssertForbiddenAsync(node.PatchAsync($"/api/v1/namespaces/{ns}/pods/static", MergePatch("""{"metadata":{"labels":{"a":"b"}}}""")), "cannot patch resource \"pods\"");
        using (var status = await node.PatchAsync($"/api/v1/namespaces/{ns}/pods/static/status", MergePatch("""{"status":{"message":"running"}}""")))
        {
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/pods", Pod("theirs", "other-" + _id, null, string.Empty))).Status);
        await AssertForbiddenAsync(node.PatchAsync($"/api/v1/namespaces/{ns}/pods/theirs/status", MergePatch("""{"status":{"message":"mine now"}}""")), "can only change pods bound to it");
        await AssertForbiddenAsync(node.DeleteAsync($"/api/v1/namespaces/{ns}/pods/theirs"), "can only change pods bound to it");
        using (var deleted = await node.DeleteAsync($"/api/v1/namespaces/{ns}/pods/static"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        // A pod that is gone is not found, as upstream's node restriction answers, not forbidden: the kubelet's
        // last delete of its own pod may come after another one.
        using (var gone = await node.DeleteAsync($"/api/v1/namespaces/{ns}/pods/gone"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (var goneStatus = await node.PatchAsync($"/api/v1/namespaces/{ns}/pods/gone/status", MergePatch("""{"status":{"message":"x"}}""")))
        {
            Assert.Equal(HttpStatusCode.NotFound, goneStatus.StatusCode);
        }

        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
    }

    private static string Pod(string name, string nodeName, string? mirror, string moreSpec) => $$$"""
        {"metadata":{"name":"{{{name}}}"{{{(mirror is null ? string.Empty : $",\"annotations\":{{\"kubernetes.io/config.mirror\":\"{mirror}\"}}")}}}},
         "spec":{"nodeName":"{{{nodeName}}}","automountServiceAccountToken":false,"containers":[{"name":"c","image":"busybox"}]{{{moreSpec}}}}}
        """;

    private HttpClient ClientFor(string user)
    {
        var (certificatePem, keyPem) = ComponentIdentities.Issue(server.Host.Certificates, user, TimeProvider.System);
        return server.CertificateClient(certificatePem, keyPem);
    }

    private static async Task AssertForbiddenAsync(Task<HttpResponseMessage> request, string expected)
    {
        using var response = await request;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{(int)response.StatusCode}: {body}");
        var status = JsonNode.Parse(body)!;
        Assert.Equal("Forbidden", (string?)status["reason"]);
        Assert.Contains(expected, (string?)status["message"], StringComparison.Ordinal);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent MergePatch(string json) => new(json, Encoding.UTF8, "application/merge-patch+json");
}
