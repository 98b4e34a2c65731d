using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.Client;
using Kubesharp.Client.Discovery;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Aggregation;

/// <summary>
/// API aggregation end to end: an extension API server in the test process, reached through a Service without a
/// selector and an EndpointSlice naming 127.0.0.1, registered with an APIService; requests, discovery and the real
/// kubectl go through the server, which authorizes the caller and forwards its identity in front-proxy headers.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ApiServiceTests(TestServer server) : IAsyncLifetime
{
    private const string Namespace = "default";
    private readonly string _service = "flunder-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _group = "wardle" + Guid.NewGuid().ToString("N")[..8] + ".example.com";
    private readonly string _home = Directory.CreateTempSubdirectory("kubesharp-it-aggregation").FullName;
    private TestExtensionApiServer _backend = null!;

    private string ApiServiceName => $"v1alpha1.{_group}";

    private string Flunders => $"/apis/{_group}/v1alpha1/namespaces/{Namespace}/flunders";

    public async Task InitializeAsync()
    {
        var (status, configMap) = await server.GetAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
        Assert.True(status == HttpStatusCode.OK, configMap?.ToJsonString());
        var allowed = JsonNode.Parse((string)configMap!["data"]!["requestheader-allowed-names"]!)!.AsArray().Select(n => (string)n!).ToArray();
        _backend = await TestExtensionApiServer.StartAsync(_service, Namespace, _group, "v1alpha1", (string)configMap["data"]!["requestheader-client-ca-file"]!, allowed);
        _backend.Add(TestExtensionApiServer.Flunder(Namespace, "alpha", "red"));
        _backend.Add(TestExtensionApiServer.Flunder(Namespace, "beta", "blue"));
    }

    public async Task DisposeAsync()
    {
        await server.SendAsync(HttpMethod.Delete, $"/apis/apiregistration.k8s.io/v1/apiservices/{ApiServiceName}");
        await server.SendAsync(HttpMethod.Delete, $"/apis/discovery.k8s.io/v1/namespaces/{Namespace}/endpointslices/{_service}");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{Namespace}/services/{_service}");
        await _backend.DisposeAsync();
        Directory.Delete(_home, recursive: true);
    }

    private async Task RegisterAsync()
    {
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{Namespace}/services", $$$"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"{{{_service}}}"},
             "spec":{"ports":[{"name":"https","port":443,"targetPort":{{{_backend.Port}}} }]}}
            """);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        (status, body) = await server.PostAsync($"/apis/discovery.k8s.io/v1/namespaces/{Namespace}/endpointslices", $$$"""
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
             "metadata":{"name":"{{{_service}}}","labels":{"kubernetes.io/service-name":"{{{_service}}}"}},
             "addressType":"IPv4","endpoints":[{"addresses":["127.0.0.1"],"conditions":{"ready":true}}],
             "ports":[{"name":"https","port":{{{_backend.Port}}},"protocol":"TCP"}]}
            """);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        (status, body) = await server.PostAsync("/apis/apiregistration.k8s.io/v1/apiservices", $$$"""
            {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"{{{ApiServiceName}}}"},
             "spec":{"group":"{{{_group}}}","version":"v1alpha1","groupPriorityMinimum":1000,"versionPriority":15,
                     "caBundle":"{{{_backend.CaBundle}}}","service":{"namespace":"{{{Namespace}}}","name":"{{{_service}}}"}} }
            """);
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Equal(443, (int?)body!["spec"]!["service"]!["port"]);
    }

    /// <summary>What the client library's discovery (the garbage collector's and namespace controller's) finds.</summary>
    private async Task<DiscoveredResources> DiscoverAsync()
    {
        using var client = new KubernetesClient(new KubernetesClientOptions
        {
            Server = server.Host.Url,
            CertificateAuthorityPem = server.Host.Certificates.CaPem,
            ClientCertificatePem = server.Host.Certificates.AdminCertificatePem,
            ClientKeyPem = server.Host.Certificates.AdminKeyPem,
        });
        return await new DiscoveryClient(client).ServerPreferredResourcesAsync();
    }

    /// <summary>Waits (bounded) until the APIService's Available condition has <paramref name="status"/> and <paramref name="reason"/>.</summary>
    private async Task<JsonObject> WaitForAvailableAsync(string status, string reason)
    {
        var clock = Stopwatch.StartNew();
        JsonObject? condition = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            var (_, apiService) = await server.GetAsync($"/apis/apiregistration.k8s.io/v1/apiservices/{ApiServiceName}");
            condition = (apiService?["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Available");
            if (condition is not null && (string?)condition["status"] == status && (string?)condition["reason"] == reason)
            {
                return condition;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{ApiServiceName} not Available={status} ({reason}) after {clock.Elapsed}: {condition?.ToJsonString()}");
    }

    private async Task<(int ExitCode, string Output, string Error)> KubectlAsync(params string[] args)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["KUBECONFIG"] = server.Host.KubeconfigPath;
        info.Environment["HOME"] = _home;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task ApiService_ProxiesDiscoveryListGetWatch_AndKubectlUsesIt()
    {
        await RegisterAsync();
        var condition = await WaitForAvailableAsync("True", "Passed");
        Assert.Equal("all checks passed", (string?)condition["message"]);

        // The availability check came through the front proxy as the aggregator.
        Assert.Contains(_backend.Requests, r => r.TrustedProxy && r.User == "system:kube-aggregator" && r.Path == $"/apis/{_group}/v1alpha1");

        // Discovery: the group in /apis, its version's resources from the backend in the aggregated list.
        var (_, groups) = await server.GetAsync("/apis");
        Assert.Contains((groups!["groups"] as JsonArray)!, g => (string?)g!["name"] == _group);
        var (_, aggregated) = await server.GetAsync("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        var entry = (aggregated!["items"] as JsonArray)!.Single(i => (string?)i!["metadata"]!["name"] == _group)!;
        var version = entry["versions"]![0]!;
        Assert.Equal("Current", (string?)version["freshness"]);
        Assert.Equal("flunders", (string?)version["resources"]![0]!["resource"]);
        Assert.Equal("status", (string?)version["resources"]![0]!["subresources"]![0]!["subresource"]);
        var (status, resourceList) = await server.GetAsync($"/apis/{_group}/v1alpha1");
        Assert.True(status == HttpStatusCode.OK, resourceList?.ToJsonString());
        Assert.Equal("APIResourceList", (string?)resourceList!["kind"]);

        // The client library's discovery reads the aggregated lists: the backend's resource beside the built-in ones.
        var discovered = await DiscoverAsync();
        var flunders = Assert.Single(discovered.Resources, r => r.Group == _group);
        Assert.Equal(("v1alpha1", "flunders", "Flunder", "FlunderList", true), (flunders.Version, flunders.Resource, flunders.Kind, flunders.ListKind, flunders.Namespaced));
        Assert.Equal(["fl"], flunders.ShortNames);
        Assert.Contains("watch", flunders.Verbs);
        Assert.Contains(discovered.Resources, r => r is { Group: "", Version: "v1", Resource: "pods", Kind: "Pod", Namespaced: true });
        Assert.Contains(discovered.Resources, r => r is { Group: "apps", Version: "v1", Resource: "deployments", SingularName: "deployment" });
        Assert.DoesNotContain(discovered.Resources, r => r.Resource.Contains('/', StringComparison.Ordinal));
        Assert.DoesNotContain($"{_group}/v1alpha1", discovered.FailedGroupVersions);

        // List and get proxied, with the caller's identity in the front-proxy headers.
        var (listStatus, list) = await server.GetAsync(Flunders);
        Assert.True(listStatus == HttpStatusCode.OK, list?.ToJsonString());
        Assert.Equal(["alpha", "beta"], (list!["items"] as JsonArray)!.Select(i => (string?)i!["metadata"]!["name"]));
        var (_, one) = await server.GetAsync(Flunders + "/beta");
        Assert.Equal("blue", (string?)one!["spec"]!["color"]);
        var (missingStatus, missing) = await server.GetAsync(Flunders + "/gamma");
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
        Assert.Equal("NotFound", (string?)missing!["reason"]);
        var proxied = _backend.Requests.Last(r => r.Path == $"{Flunders}/gamma");
        Assert.True(proxied.TrustedProxy);
        Assert.Equal(Kubesharp.ApiServer.Security.ClusterCertificates.AdminUser, proxied.User);
        Assert.Contains("system:masters", proxied.Groups);
        Assert.Contains("system:authenticated", proxied.Groups);

        // A watch streams through: the backend's existing objects, then one added while it is open.
        using (var request = new HttpRequestMessage(HttpMethod.Get, Flunders + "?watch=true"))
        using (var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal("ADDED", (string?)JsonNode.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!)!["type"]);
            }

            _backend.Add(TestExtensionApiServer.Flunder(Namespace, "gamma", "green"));
            var added = JsonNode.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!)!;
            Assert.Equal("gamma", (string?)added["object"]!["metadata"]!["name"]);
        }

        // The real kubectl: resources found through aggregated discovery, the backend's table printed.
        var get = await KubectlAsync("get", "flunders", "-n", Namespace);
        Assert.True(get.ExitCode == 0, get.Error);
        var lines = get.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "COLOR"], Words(lines[0]));
        Assert.Equal(["alpha", "red"], Words(lines[1]));
        Assert.Equal(3, lines.Length - 1);
        var shortName = await KubectlAsync("get", "fl", "gamma", "-n", Namespace, "-o", "jsonpath={.spec.color}");
        Assert.True(shortName.ExitCode == 0, shortName.Error);
        Assert.Equal("green", shortName.Output);

        var resources = await KubectlAsync("api-resources", "--api-group", _group);
        Assert.True(resources.ExitCode == 0, resources.Error);
        var row = resources.Output.Split('\n').Single(l => l.StartsWith("flunders", StringComparison.Ordinal));
        Assert.Equal(["flunders", "fl", $"{_group}/v1alpha1", "true", "Flunder"], Words(row));

        var apiServices = await KubectlAsync("get", "apiservice", ApiServiceName, "v1.apps");
        Assert.True(apiServices.ExitCode == 0, apiServices.Error);
        lines = apiServices.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "SERVICE", "AVAILABLE", "AGE"], Words(lines[0]));
        Assert.Equal([ApiServiceName, $"{Namespace}/{_service}", "True"], Words(lines.Single(l => l.StartsWith(ApiServiceName, StringComparison.Ordinal)))[..3]);
        Assert.Equal(["v1.apps", "Local", "True"], Words(lines.Single(l => l.StartsWith("v1.apps", StringComparison.Ordinal)))[..3]);
    }

    [Fact]
    public async Task ApiService_AuthorizesBeforeProxying()
    {
        await RegisterAsync();
        await WaitForAvailableAsync("True", "Passed");
        var user = "agg-" + Guid.NewGuid().ToString("N")[..8];
        var (cert, key) = server.Host.Certificates.IssueClientCertificate(user, ["agg-testers"], TimeProvider.System);
        using var client = server.CertificateClient(cert, key);

        // Refused here: the backend never sees the request.
        using (var refused = await client.GetAsync(Flunders))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var status = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
            Assert.Equal($"flunders.{_group} is forbidden: User \"{user}\" cannot list resource \"flunders\" in API group \"{_group}\" in the namespace \"{Namespace}\"", (string?)status["message"]);
        }

        Assert.DoesNotContain(_backend.Requests, r => r.User == user);

        // Granted by RBAC on the aggregated resource: proxied with the user's name and groups.
        var role = "agg-reader-" + user;
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{Namespace}/roles", $$$"""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"{{{role}}}"},
             "rules":[{"apiGroups":["{{{_group}}}"],"resources":["flunders"],"verbs":["get","list"]}]}
            """)).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{Namespace}/rolebindings", $$$"""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"{{{role}}}"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"{{{role}}}"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"{{{user}}}"}]}
            """)).Status);
        try
        {
            HttpStatusCode code = 0;
            for (var i = 0; i < 100 && code != HttpStatusCode.OK; i++)
            {
                using var allowed = await client.GetAsync(Flunders);
                code = allowed.StatusCode;
                if (code != HttpStatusCode.OK)
                {
                    await Task.Delay(50);
                }
            }

            Assert.Equal(HttpStatusCode.OK, code);
            var seen = _backend.Requests.Last(r => r.User == user);
            Assert.True(seen.TrustedProxy);
            Assert.Contains("agg-testers", seen.Groups);
            Assert.Contains("system:authenticated", seen.Groups);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/namespaces/{Namespace}/rolebindings/{role}");
            await server.SendAsync(HttpMethod.Delete, $"/apis/rbac.authorization.k8s.io/v1/namespaces/{Namespace}/roles/{role}");
        }
    }

    [Fact]
    public async Task ApiService_BackendGone_NotAvailable503AndStale()
    {
        await RegisterAsync();
        await WaitForAvailableAsync("True", "Passed");

        // The backend stops: the next request fails to connect (503), which has the APIService checked again.
        await _backend.StopAsync();
        using (var response = await server.Client.GetAsync(Flunders))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        var condition = await WaitForAvailableAsync("False", "FailedDiscoveryCheck");
        Assert.StartsWith($"failing or missing response from https://127.0.0.1:{_backend.Port}/apis/{_group}/v1alpha1", (string?)condition["message"]);
        using (var response = await server.Client.GetAsync(Flunders))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("service unavailable\n", await response.Content.ReadAsStringAsync());
        }

        // Discovery keeps what it last served, marked stale.
        var (_, aggregated) = await server.GetAsync("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        var version = (aggregated!["items"] as JsonArray)!.Single(i => (string?)i!["metadata"]!["name"] == _group)!["versions"]![0]!;
        Assert.Equal("Stale", (string?)version["freshness"]);
        Assert.Equal("flunders", (string?)version["resources"]![0]!["resource"]);

        // A stale group-version is one discovery could not read: its resources are unknown, not gone.
        var discovered = await DiscoverAsync();
        Assert.Contains($"{_group}/v1alpha1", discovered.FailedGroupVersions);
        Assert.DoesNotContain(discovered.Resources, r => r.Group == _group);

        var apiServices = await KubectlAsync("get", "apiservice", ApiServiceName);
        Assert.True(apiServices.ExitCode == 0, apiServices.Error);
        Assert.Equal([ApiServiceName, $"{Namespace}/{_service}", "False", "(FailedDiscoveryCheck)"], Words(apiServices.Output.Split('\n')[1])[..4]);

        // Without endpoints, then without the Service: upstream's reasons.
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, $"/apis/discovery.k8s.io/v1/namespaces/{Namespace}/endpointslices/{_service}")).Status);
        condition = await WaitForAvailableAsync("False", "EndpointsNotFound");
        Assert.Equal($"cannot find endpoints for service/{_service} in \"{Namespace}\"", (string?)condition["message"]);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{Namespace}/services/{_service}")).Status);
        condition = await WaitForAvailableAsync("False", "ServiceNotFound");
        Assert.Equal($"service/{_service} in \"{Namespace}\" is not present", (string?)condition["message"]);
    }

    [Fact]
    public async Task ApiService_WrongPort_ServicePortError()
    {
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{Namespace}/services", $$$"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"{{{_service}}}"},"spec":{"ports":[{"name":"https","port":8443}]}}
            """)).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/apis/apiregistration.k8s.io/v1/apiservices", $$$"""
            {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"{{{ApiServiceName}}}"},
             "spec":{"group":"{{{_group}}}","version":"v1alpha1","groupPriorityMinimum":1000,"versionPriority":15,"insecureSkipTLSVerify":true,
                     "service":{"namespace":"{{{Namespace}}}","name":"{{{_service}}}"}} }
            """)).Status);
        var condition = await WaitForAvailableAsync("False", "ServicePortError");
        Assert.Equal($"service/{_service} in \"{Namespace}\" is not listening on port 443", (string?)condition["message"]);
        using var response = await server.Client.GetAsync(Flunders);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task LocalApiServices_RegisteredForBuiltInGroupVersions()
    {
        var (status, core) = await server.GetAsync("/apis/apiregistration.k8s.io/v1/apiservices/v1.");
        Assert.True(status == HttpStatusCode.OK, core?.ToJsonString());
        Assert.Null(core!["spec"]!["service"]);
        Assert.Equal(18000, (int?)core["spec"]!["groupPriorityMinimum"]);
        Assert.Equal("onstart", (string?)core["metadata"]!["labels"]!["kube-aggregator.kubernetes.io/automanaged"]);
        var (_, list) = await server.GetAsync("/apis/apiregistration.k8s.io/v1/apiservices");
        var names = (list!["items"] as JsonArray)!.Select(i => (string?)i!["metadata"]!["name"]).ToHashSet();
        Assert.Contains("v1.apps", names);
        Assert.Contains("v2.autoscaling", names);
        Assert.Contains("v1.apiregistration.k8s.io", names);
        var clock = Stopwatch.StartNew();
        JsonObject? available = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && available is null)
        {
            var (_, apps) = await server.GetAsync("/apis/apiregistration.k8s.io/v1/apiservices/v1.apps");
            available = (apps!["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Available");
            await Task.Delay(available is null ? 50 : 0);
        }

        Assert.Equal("True", (string?)available?["status"]);
        Assert.Equal("Local", (string?)available!["reason"]);
        Assert.Equal("Local APIServices are always available", (string?)available["message"]);

        // The front-proxy trust extension API servers read.
        var (_, configMap) = await server.GetAsync("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
        var data = configMap!["data"]!;
        Assert.Equal("[\"front-proxy-client\"]", (string?)data["requestheader-allowed-names"]);
        Assert.Equal("[\"X-Remote-User\"]", (string?)data["requestheader-username-headers"]);
        Assert.Equal("[\"X-Remote-Group\"]", (string?)data["requestheader-group-headers"]);
        Assert.Equal("[\"X-Remote-Extra-\"]", (string?)data["requestheader-extra-headers-prefix"]);
        Assert.Equal(server.Host.Certificates.CaPem, (string?)data["client-ca-file"]);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", (string?)data["requestheader-client-ca-file"]);
        Assert.NotEqual(server.Host.Certificates.CaPem, (string?)data["requestheader-client-ca-file"]);
    }

    [Theory]
    [InlineData("v1.other.example.com", "\"group\":\"wrong.example.com\",\"version\":\"v1\",\"groupPriorityMinimum\":100,\"versionPriority\":10", "metadata.name", "must be `spec.version+\\\".\\\"+spec.group`: \\\"v1.wrong.example.com\\\"")]
    [InlineData("v1.prio.example.com", "\"group\":\"prio.example.com\",\"version\":\"v1\",\"groupPriorityMinimum\":0,\"versionPriority\":10", "spec.groupPriorityMinimum", "must be positive and less than 20000")]
    [InlineData("v1.prio2.example.com", "\"group\":\"prio2.example.com\",\"version\":\"v1\",\"groupPriorityMinimum\":10,\"versionPriority\":1001", "spec.versionPriority", "must be positive and less than 1000")]
    [InlineData("v1.local.example.com", "\"group\":\"local.example.com\",\"version\":\"v1\",\"groupPriorityMinimum\":10,\"versionPriority\":10,\"insecureSkipTLSVerify\":true", "spec.insecureSkipTLSVerify", "local APIServices may not have insecureSkipTLSVerify")]
    [InlineData("v1.svc.example.com", "\"group\":\"svc.example.com\",\"version\":\"v1\",\"groupPriorityMinimum\":10,\"versionPriority\":10,\"service\":{\"namespace\":\"default\"}", "spec.service.name", "Required value")]
    [InlineData("v1.both.example.com", "\"group\":\"both.example.com\",\"version\":\"v1\",\"groupPriorityMinimum\":10,\"versionPriority\":10,\"insecureSkipTLSVerify\":true,\"caBundle\":\"AAAA\",\"service\":{\"namespace\":\"default\",\"name\":\"x\"}", "spec.insecureSkipTLSVerify", "may not be true if caBundle is present")]
    public async Task ApiService_Invalid_422WithCause(string name, string spec, string field, string message)
    {
        var (status, body) = await server.PostAsync("/apis/apiregistration.k8s.io/v1/apiservices", $$$"""
            {"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"{{{name}}}"},"spec":{ {{{spec}}} }}
            """);
        Assert.True(status == HttpStatusCode.UnprocessableEntity, body?.ToJsonString());
        Assert.Contains((body!["details"]!["causes"] as JsonArray)!, c => (string?)c!["field"] == field && ((string?)c["message"])!.EndsWith(JsonNode.Parse($"\"{message}\"")!.GetValue<string>(), StringComparison.Ordinal));
    }
}
