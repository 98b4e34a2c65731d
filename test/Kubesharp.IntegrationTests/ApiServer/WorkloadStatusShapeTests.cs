using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Workload statuses have upstream's JSON shape: on new objects and after every status write.</summary>
[Collection(ServerCollection.Name)]
public sealed class WorkloadStatusShapeTests(TestServer server)
{
    private const string Template = """{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}""";
    private const string JobTemplate = """{"metadata":{"labels":{"app":"x"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox:1"}]}}""";

    private const string Deployment = $$$"""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{{{Template}}}}}""";
    private const string DaemonSet = $$$"""{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"w"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{{{Template}}}}}""";

    private async Task<string> CreateNamespaceAsync()
    {
        var ns = "t" + Guid.NewGuid().ToString("N")[..10];
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        return ns;
    }

    public static TheoryData<string, string, string> Kinds => new()
    {
        { "/apis/apps/v1/namespaces/{0}/deployments", Deployment, "{}" },
        { "/apis/apps/v1/namespaces/{0}/replicasets", $$$"""{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"w"},"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{{{Template}}}}}""", """{"replicas":0}""" },
        { "/api/v1/namespaces/{0}/replicationcontrollers", $$$"""{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"w"},"spec":{"template":{{{Template}}}}}""", """{"replicas":0}""" },
        { "/apis/apps/v1/namespaces/{0}/statefulsets", $$$"""{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"w"},"spec":{"serviceName":"w","selector":{"matchLabels":{"app":"x"}},"template":{{{Template}}}}}""", """{"replicas":0,"availableReplicas":0}""" },
        { "/apis/apps/v1/namespaces/{0}/daemonsets", DaemonSet, """{"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,"numberReady":0}""" },
        { "/apis/batch/v1/namespaces/{0}/jobs", $$$"""{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"w"},"spec":{"template":{{{JobTemplate}}}}}""", "{}" },
        { "/apis/batch/v1/namespaces/{0}/cronjobs", $$$"""{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"w"},"spec":{"schedule":"0 * * * *","jobTemplate":{"spec":{"template":{{{JobTemplate}}} } } } }""", "{}" },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Create_Workload_HasUpstreamInitialStatus(string pathFormat, string body, string expected)
    {
        var ns = await CreateNamespaceAsync();
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, ns);

        var (status, created) = await server.PostAsync(path, body.Replace("\"metadata\":{\"name\":\"w\"}", "\"metadata\":{\"name\":\"w\"},\"status\":{\"replicas\":7}", StringComparison.Ordinal));
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        var (_, stored) = await server.GetAsync(path + "/w");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), created!["status"]), created["status"]?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), stored!["status"]), stored["status"]?.ToJsonString());
    }

    [Fact]
    public async Task UpdateStatus_DeploymentZeroCounters_AreLeftOutButOptionalZerosKept()
    {
        var ns = await CreateNamespaceAsync();
        var path = $"/apis/apps/v1/namespaces/{ns}/deployments";
        var (created, _) = await server.PostAsync(path, Deployment);
        Assert.Equal(HttpStatusCode.Created, created);

        var (status, updated) = await server.SendAsync(HttpMethod.Patch, path + "/w/status", """
            {"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":0,"readyReplicas":0,"availableReplicas":0,"unavailableReplicas":2,"terminatingReplicas":0,"collisionCount":0,"conditions":[]}}
            """, "application/merge-patch+json");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"observedGeneration":1,"replicas":2,"unavailableReplicas":2,"terminatingReplicas":0,"collisionCount":0}"""), updated!["status"]), updated["status"]?.ToJsonString());
    }

    [Fact]
    public async Task UpdateStatus_DaemonSetWithoutCounters_KeepsAlwaysWrittenCounters()
    {
        var ns = await CreateNamespaceAsync();
        var path = $"/apis/apps/v1/namespaces/{ns}/daemonsets";
        var (created, _) = await server.PostAsync(path, DaemonSet);
        Assert.Equal(HttpStatusCode.Created, created);
        var (_, current) = await server.GetAsync(path + "/w");
        current!["status"] = JsonNode.Parse("""{"observedGeneration":1,"desiredNumberScheduled":2,"numberAvailable":0,"numberUnavailable":2,"updatedNumberScheduled":0}""");

        var (status, updated) = await server.SendAsync(HttpMethod.Put, path + "/w/status", current.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse("""{"observedGeneration":1,"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":2,"numberReady":0,"numberUnavailable":2}"""), updated!["status"]),
            updated["status"]?.ToJsonString());
    }
}
