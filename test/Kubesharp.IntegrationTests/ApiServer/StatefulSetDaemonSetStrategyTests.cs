using System.Net;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Upstream's defaults and update rules for StatefulSets and DaemonSets.</summary>
[Collection(ServerCollection.Name)]
public sealed class StatefulSetDaemonSetStrategyTests(TestServer server)
{
    private const string Template = """{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}""";

    private async Task<string> CreateNamespaceAsync()
    {
        var ns = "t" + Guid.NewGuid().ToString("N")[..10];
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        return ns;
    }

    [Fact]
    public async Task Create_StatefulSet_GetsUpstreamDefaults_AndItsIdentityIsImmutable()
    {
        var ns = await CreateNamespaceAsync();
        var (status, created) = await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/statefulsets", $$$"""
            {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"},"spec":{"serviceName":"db","selector":{"matchLabels":{"app":"x"}},
             "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{}},"template":{{{Template}}}}}
            """);

        Assert.Equal(HttpStatusCode.Created, status);
        var spec = created!["spec"]!;
        Assert.Equal(1, (int?)spec["replicas"]);
        Assert.Equal(10, (int?)spec["revisionHistoryLimit"]);
        Assert.Equal("OrderedReady", (string?)spec["podManagementPolicy"]);
        Assert.Equal(0, (int?)spec["updateStrategy"]!["rollingUpdate"]!["partition"]);
        Assert.Equal(1, (int?)spec["updateStrategy"]!["rollingUpdate"]!["maxUnavailable"]);
        Assert.Equal("Retain", (string?)spec["persistentVolumeClaimRetentionPolicy"]!["whenDeleted"]);
        Assert.Equal("Retain", (string?)spec["persistentVolumeClaimRetentionPolicy"]!["whenScaled"]);

        var (scaled, _) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/statefulsets/db", """{"spec":{"replicas":3,"updateStrategy":{"rollingUpdate":{"partition":2}}}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, scaled);
        var (renamed, body) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/statefulsets/db", """{"spec":{"serviceName":"other"}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, renamed);
        Assert.Contains("updates to statefulset spec for fields other than", (string?)body!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DaemonSet_DefaultsAndTemplateGeneration_FollowTemplateChangesOnly()
    {
        var ns = await CreateNamespaceAsync();
        var (status, created) = await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/daemonsets", $$$"""
            {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{{{Template}}}}}
            """);

        Assert.Equal(HttpStatusCode.Created, status);
        var strategy = created!["spec"]!["updateStrategy"]!;
        Assert.Equal("RollingUpdate", (string?)strategy["type"]);
        Assert.Equal(1, (int?)strategy["rollingUpdate"]!["maxUnavailable"]);
        Assert.Equal(0, (int?)strategy["rollingUpdate"]!["maxSurge"]);
        Assert.Equal(10, (int?)created["spec"]!["revisionHistoryLimit"]);
        Assert.False(created["spec"]!.AsObject().ContainsKey("replicas"));
        Assert.Equal("1", (string?)created["metadata"]!["annotations"]!["deprecated.daemonset.template.generation"]);

        var (_, unchanged) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/daemonsets/agent", """{"spec":{"minReadySeconds":5}}""", "application/merge-patch+json");
        Assert.Equal("1", (string?)unchanged!["metadata"]!["annotations"]!["deprecated.daemonset.template.generation"]);
        var (_, changed) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/daemonsets/agent", """{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}""", "application/merge-patch+json");
        Assert.Equal("2", (string?)changed!["metadata"]!["annotations"]!["deprecated.daemonset.template.generation"]);
        var (_, partial) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/daemonsets/agent", """{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}""", "application/merge-patch+json");
        Assert.Equal("OnDelete", (string?)partial!["spec"]!["updateStrategy"]!["type"]);
        Assert.Null(partial["spec"]!["updateStrategy"]!["rollingUpdate"]);
    }
}
