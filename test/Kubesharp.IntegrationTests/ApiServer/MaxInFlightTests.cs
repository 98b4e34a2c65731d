using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>A server started with --enable-priority-and-fairness=false and one request of each kind in flight.</summary>
public sealed class MaxInFlightTestServer : TestServer
{
    protected override (bool PriorityAndFairness, int ReadOnly, int Mutating) Overload => (false, 1, 1);
}

/// <summary>
/// Without API Priority and Fairness the max-in-flight limits protect the server as upstream's: one more request of
/// a kind than its limit gets 429 with Retry-After at once; the other kind, watches and system:masters go on.
/// </summary>
public sealed class MaxInFlightTests(MaxInFlightTestServer server) : IClassFixture<MaxInFlightTestServer>
{
    [Fact]
    public async Task PriorityAndFairnessOff_MutatingOverTheLimit_Gets429WithRetryAfter_ReadsAndMastersGoOn()
    {
        var user = "inflight-" + Guid.NewGuid().ToString("N")[..8];
        var (bound, _) = await server.PostAsync("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", $$$"""
            {"metadata":{"name":"{{{user}}}"},"subjects":[{"kind":"User","name":"{{{user}}}","apiGroup":"rbac.authorization.k8s.io"}],
             "roleRef":{"kind":"ClusterRole","name":"cluster-admin","apiGroup":"rbac.authorization.k8s.io"}}
            """);
        Assert.Equal(HttpStatusCode.Created, bound);
        using var client = UserClient(user);
        await using var held = HeldCreate.Start(client, "/api/v1/namespaces/default/configmaps", $$$"""{"metadata":{"name":"{{{user}}}-held"}}""");
        await FlowControlTests.EventuallyAsync(async () => (await InFlightAsync()).Mutating == 1);

        using (var refused = await client.PostAsync("/api/v1/namespaces/default/configmaps", Json($$$"""{"metadata":{"name":"{{{user}}}-refused"}}""")))
        {
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
            var status = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal(("Status", "TooManyRequests"), ((string?)status["kind"], (string?)status["reason"]));
            // No priority level classified it.
            Assert.False(refused.Headers.Contains("X-Kubernetes-PF-PriorityLevel-UID"));
        }

        using (var read = await client.GetAsync("/api/v1/namespaces/default/configmaps"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.False(read.Headers.Contains("X-Kubernetes-PF-FlowSchema-UID"));
        }

        // The admin is in system:masters: served beyond the limit.
        var (created, _) = await server.PostAsync("/api/v1/namespaces/default/configmaps", $$$"""{"metadata":{"name":"{{{user}}}-admin"}}""");
        Assert.Equal(HttpStatusCode.Created, created);

        Assert.Equal(HttpStatusCode.Created, await held.CompleteAsync());
        await FlowControlTests.EventuallyAsync(async () => (await InFlightAsync()).Mutating == 0);
        using var after = await client.PostAsync("/api/v1/namespaces/default/configmaps", Json($$$"""{"metadata":{"name":"{{{user}}}-after"}}"""));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    private static StringContent Json(string body) => new(body, new MediaTypeHeaderValue("application/json"));

    private async Task<(double ReadOnly, double Mutating)> InFlightAsync()
    {
        var metrics = Metrics.PrometheusText.Parse(await server.Client.GetStringAsync("/metrics"));
        return (metrics.Value("apiserver_current_inflight_requests", ("request_kind", "readOnly")), metrics.Value("apiserver_current_inflight_requests", ("request_kind", "mutating")));
    }

    private HttpClient UserClient(string user)
    {
        var (certificatePem, keyPem) = server.Host.Certificates.IssueClientCertificate(user, [], TimeProvider.System);
        return server.CertificateClient(certificatePem, keyPem);
    }
}
