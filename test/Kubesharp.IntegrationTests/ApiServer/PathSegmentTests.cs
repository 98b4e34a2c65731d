using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Dot segments and names that are not path segments never address another object.</summary>
[Collection(ServerCollection.Name)]
public sealed class PathSegmentTests(TestServer server)
{
    public static TheoryData<string, string> DotNames()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in new[] { "GET", "PUT", "PATCH", "DELETE" })
        {
            foreach (var name in new[] { "..", "%2E%2E", "%2e.", ".%2E", ".", "%2E" })
            {
                data.Add(method, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DotNames))]
    public async Task DotSegmentName_Answers400_AndLeavesTheNamespaceAlone(string method, string name)
    {
        var ns = "dots" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}")).Status);
        var body = method switch
        {
            "PUT" => "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\",\"labels\":{\"hit\":\"yes\"}}}",
            "PATCH" => "{\"metadata\":{\"labels\":{\"hit\":\"yes\"}}}",
            _ => null,
        };

        var (status, response) = await SendRawAsync(method, $"/api/v1/namespaces/{ns}/configmaps/{name}", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Status", (string?)response!["kind"]);
        var decoded = Uri.UnescapeDataString(name);
        Assert.Equal($"Name parameter invalid: \"{decoded}\": may not be '{decoded}'", (string?)response["message"]);
        var (nsStatus, nsBody) = await server.GetAsync($"/api/v1/namespaces/{ns}");
        Assert.Equal(HttpStatusCode.OK, nsStatus);
        Assert.Null(nsBody!["metadata"]!["deletionTimestamp"]);
        Assert.Null(nsBody["metadata"]!["labels"]?["hit"]);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
    }

    [Theory]
    [InlineData("/api/v1/namespaces/..")]
    [InlineData("/api/v1/namespaces/%2E%2E/configmaps")]
    [InlineData("/api/v1/namespaces/default/configmaps/a%25b")]
    [InlineData("/apis/apps/v1/namespaces/default/deployments/..")]
    public async Task InvalidPathSegment_Answers400Status(string path)
    {
        var (status, response) = await SendRawAsync("GET", path, null);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("BadRequest", (string?)response!["reason"]);
    }

    [Fact]
    public async Task EncodedSlashInName_NeverReachesAnotherObject()
    {
        var (status, response) = await SendRawAsync("DELETE", "/api/v1/namespaces/default/configmaps/x%2F..%2F..", null);
        Assert.InRange((int)status, 400, 499);
        Assert.Equal("Status", (string?)response!["kind"]);
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/api/v1/namespaces/default")).Status);
    }

    [Fact]
    public async Task DotSegmentName_OverHttp2_Answers400()
    {
        var uri = new Uri(server.Host.Url + "api/v1/namespaces/default/configmaps/%2E%2E?dryRun=All", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(HttpMethod.Delete, uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Name parameter invalid", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_NameDotDot_Answers422()
    {
        var (status, response) = await server.PostAsync("/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"..\"}}");
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal("Invalid", (string?)response!["reason"]);
    }

    /// <summary>Sends the path exactly as written: no dot-segment removal or unescaping on the client side.</summary>
    private async Task<(HttpStatusCode Status, JsonObject? Body)> SendRawAsync(string method, string path, string? body)
    {
        var uri = new Uri(server.Host.Url + path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, method == "PATCH" ? "application/merge-patch+json" : "application/json");
        }

        using var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : null);
    }
}
