using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Security;

[Collection(ServerCollection.Name)]
public sealed class ServiceAccountTokenVolumeTests(TestServer server)
{
    private const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    [Fact]
    public async Task NewPod_GetsTheProjectedApiAccessVolume_InEveryContainer()
    {
        var spec = await CreatePodAsync("""{"initContainers":[{"name":"i","image":"busybox"}],"containers":[{"name":"a","image":"busybox"},{"name":"b","image":"busybox","volumeMounts":[{"name":"x","mountPath":"/x"}]}],"volumes":[{"name":"x","emptyDir":{}}]}""");
        var volume = spec["volumes"]!.AsArray().Single(v => ((string)v!["name"]!).StartsWith("kube-api-access-", StringComparison.Ordinal))!;
        var name = (string)volume["name"]!;
        Assert.Matches("^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$", name);
        var expected = JsonNode.Parse("""
            {"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
                        {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
                        {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],
             "defaultMode":420}
            """);
        Assert.True(JsonNode.DeepEquals(expected, volume["projected"]), volume["projected"]!.ToJsonString());
        foreach (var container in spec["initContainers"]!.AsArray().Concat(spec["containers"]!.AsArray()))
        {
            var mount = container!["volumeMounts"]!.AsArray().Single(m => (string?)m!["mountPath"] == MountPath)!;
            Assert.Equal(name, (string?)mount["name"]);
            Assert.True((bool)mount["readOnly"]!);
        }
    }

    [Fact]
    public async Task PodSayingNo_OrAccountSayingNo_GetsNoVolume_AndThePodOverridesTheAccount()
    {
        var podNo = await CreatePodAsync("""{"automountServiceAccountToken":false,"containers":[{"name":"a","image":"busybox"}]}""");
        Assert.Null(podNo["volumes"]);
        Assert.Null(podNo["containers"]![0]!["volumeMounts"]);

        var account = "quiet-" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/serviceaccounts", $$$$"""{"metadata":{"name":"{{{{account}}}}"},"automountServiceAccountToken":false}""")).Status);
        var accountNo = await CreatePodAsync($$$$"""{"serviceAccountName":"{{{{account}}}}","containers":[{"name":"a","image":"busybox"}]}""");
        Assert.Null(accountNo["volumes"]);
        var podYes = await CreatePodAsync($$$$"""{"serviceAccountName":"{{{{account}}}}","automountServiceAccountToken":true,"containers":[{"name":"a","image":"busybox"}]}""");
        Assert.Single(podYes["volumes"]!.AsArray());
    }

    [Fact]
    public async Task ContainerWithItsOwnMountThere_IsLeftAlone()
    {
        var spec = await CreatePodAsync($$$$"""{"containers":[{"name":"a","image":"busybox","volumeMounts":[{"name":"mine","mountPath":"{{{{MountPath}}}}"}]}],"volumes":[{"name":"mine","emptyDir":{}}]}""");
        Assert.Single(spec["volumes"]!.AsArray());
        Assert.Single(spec["containers"]![0]!["volumeMounts"]!.AsArray());
    }

    private async Task<JsonObject> CreatePodAsync(string spec)
    {
        var name = "v-" + Guid.NewGuid().ToString("N")[..8];
        var (status, body) = await server.PostAsync("/api/v1/namespaces/default/pods", $$$$"""{"metadata":{"name":"{{{{name}}}}"},"spec":{{{{spec}}}}}""");
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0");
        return body!["spec"]!.AsObject();
    }
}
