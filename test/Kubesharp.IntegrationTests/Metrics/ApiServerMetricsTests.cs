using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.IntegrationTests.Metrics;

/// <summary>The API server's /metrics scraped over HTTPS: upstream's names and labels, counters that move, RBAC on the URL.</summary>
public sealed class ApiServerMetricsTests(TestServer server) : IClassFixture<TestServer>
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    private static (string, string)[] Labels(string verb, string resource, string scope, string code) =>
        [("verb", verb), ("group", ""), ("version", "v1"), ("resource", resource), ("subresource", ""), ("scope", scope), ("component", "apiserver"), ("dry_run", ""), ("code", code)];

    [Fact]
    public async Task Metrics_RequestsStoreAndObjects_CountedUnderUpstreamNames()
    {
        var ns = "metrics-" + _id;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
        var before = await ScrapeAsync(server.Client);

        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"one"},"data":{"a":"b"}}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/one")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/one")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/api/v1/configmaps")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/missing")).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/configmaps?dryRun=All", """{"metadata":{"name":"dry"}}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/api/v1/namespaces/{ns}/nosuchthings-{_id}")).Status);
        var after = await ScrapeAsync(server.Client);

        Assert.Equal("counter", after.TypeOf("apiserver_request_total"));
        Assert.Equal("histogram", after.TypeOf("apiserver_request_duration_seconds"));
        Assert.Equal(1, Delta("apiserver_request_total", Labels("POST", "configmaps", "namespace", "201")));
        Assert.Equal(2, Delta("apiserver_request_total", Labels("GET", "configmaps", "resource", "200")));
        Assert.Equal(1, Delta("apiserver_request_total", Labels("LIST", "configmaps", "namespace", "200")));
        Assert.Equal(1, Delta("apiserver_request_total", Labels("LIST", "configmaps", "cluster", "200")));
        Assert.Equal(1, Delta("apiserver_request_total", Labels("GET", "configmaps", "resource", "404")));
        Assert.Equal(1, Delta("apiserver_request_total", [("verb", "POST"), ("resource", "configmaps"), ("dry_run", "All"), ("code", "201")]));
        // A resource nobody serves is not a series of its own.
        Assert.False(after.Has("apiserver_request_total", ("resource", "nosuchthings-" + _id)));
        Assert.True(Delta("apiserver_request_total", [("resource", "other"), ("code", "404")]) >= 1);
        // The histogram has no code label: both GETs of "one" and the 404 for "missing".
        Assert.Equal(3, Delta("apiserver_request_duration_seconds_count", [("verb", "GET"), ("resource", "configmaps"), ("scope", "resource"), ("component", "apiserver")]));
        Assert.Equal(3, Delta("apiserver_request_duration_seconds_bucket", [("verb", "GET"), ("resource", "configmaps"), ("scope", "resource"), ("le", "+Inf")]));
        Assert.True(after.Has("apiserver_request_duration_seconds_bucket", ("verb", "GET"), ("le", "0.005")));

        // The metrics request itself is counted as a non-resource GET of /metrics.
        Assert.True(after.Value("apiserver_request_total", ("verb", "GET"), ("subresource", "/metrics"), ("code", "200")) >= 1);

        Assert.Equal(1, Delta("etcd_request_duration_seconds_count", [("operation", "create"), ("type", "configmaps")]));
        Assert.Equal(1, Delta("etcd_requests_total", [("operation", "create"), ("type", "configmaps")]));
        Assert.True(after.Value("apiserver_storage_objects", ("resource", "configmaps")) >= 1);
        Assert.True(after.Value("apiserver_storage_objects", ("resource", "namespaces")) >= 5);

        // The process registry follows: runtime and process metrics.
        Assert.True(after.Value("process_cpu_seconds_total") > 0);
        Assert.True(after.Value("process_resident_memory_bytes") > 0);
        Assert.True(after.Has("process_start_time_seconds"));
        Assert.True(after.Value("dotnet_total_memory_bytes") > 0);
        Assert.True(after.Has("dotnet_collection_count_total", ("generation", "0")));

        double Delta(string name, (string, string)[] labels) => after.Value(name, labels) - before.Value(name, labels);
    }

    [Fact]
    public async Task Metrics_OpenWatch_IsLongRunningAndRegisteredWatcher()
    {
        (string, string)[] watching = [("verb", "WATCH"), ("group", ""), ("version", "v1"), ("resource", "secrets"), ("scope", "cluster"), ("component", "apiserver")];
        (string, string)[] kind = [("group", ""), ("version", "v1"), ("kind", "Secret")];
        var before = await ScrapeAsync(server.Client);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using (var watch = await server.Client.GetAsync("/api/v1/secrets?watch=true", HttpCompletionOption.ResponseHeadersRead, cancel.Token))
        {
            Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
            var during = await ScrapeAsync(server.Client);
            Assert.Equal(1, during.Value("apiserver_longrunning_requests", watching) - before.Value("apiserver_longrunning_requests", watching));
            Assert.Equal(1, during.Value("apiserver_registered_watchers", kind) - before.Value("apiserver_registered_watchers", kind));
        }

        // Closing the stream ends the request on the server a moment later.
        for (var attempt = 0; ; attempt++)
        {
            var after = await ScrapeAsync(server.Client);
            if (after.Value("apiserver_longrunning_requests", watching) == before.Value("apiserver_longrunning_requests", watching))
            {
                Assert.Equal(before.Value("apiserver_registered_watchers", kind), after.Value("apiserver_registered_watchers", kind));
                Assert.True(after.Value("apiserver_request_total", [.. watching, ("code", "200")]) >= 1);
                break;
            }

            Assert.True(attempt < 100, "the closed watch is still counted as running");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Metrics_AccessFollowsRbacNonResourceUrl()
    {
        using (var response = await server.Anonymous.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var plain = UserClient("metrics-reader-" + _id))
        using (var response = await plain.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("forbidden: User \\\"metrics-reader-" + _id + "\\\" cannot get path \\\"/metrics\\\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The bootstrap policy's system:monitoring role, bound to the group of that name, grants GET /metrics.
        using var monitor = UserClient("prometheus-" + _id, "system:monitoring");
        using var allowed = await monitor.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", allowed.Content.Headers.ContentType!.ToString());
        Assert.True(PrometheusText.Parse(await allowed.Content.ReadAsStringAsync()).Has("apiserver_request_total"));
    }

    private static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
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
