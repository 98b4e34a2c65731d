using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Bad input of every kind is answered with a Status and a 4xx code, never a 500.</summary>
[Collection(ServerCollection.Name)]
public sealed class ErrorStatusTests(TestServer server)
{
    private static string Name() => "es" + Guid.NewGuid().ToString("N")[..8];

    [Theory]
    [InlineData(new byte[] { 0xff, 0xfe })]
    [InlineData(new byte[] { 0xc3, 0x28 })]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })]
    public async Task Create_InvalidUtf8InJson_Answers400(byte[] bad)
    {
        var body = Encoding.UTF8.GetBytes("{\"metadata\":{\"name\":\"" + Name() + "\"},\"data\":{\"k\":\"").Concat(bad).Concat("\"}}"u8.ToArray()).ToArray();
        var (status, response) = await SendBytesAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", body, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("BadRequest", (string?)response!["reason"]);
    }

    [Theory]
    [InlineData("application/json", "{\"metadata\":{\"name\":\"NAME\"},\"data\":{\"k\":\"\\ud800\"}}")]
    [InlineData("application/json", "{\"metadata\":{\"name\":\"NAME\"},\"data\":{\"k\":\"\\udc00x\"}}")]
    [InlineData("application/json", "{\"metadata\":{\"name\":\"NAME\",\"labels\":{\"\\ud83d\":\"v\"}}}")]
    [InlineData("application/yaml", "metadata:\n  name: NAME\ndata:\n  k: \"\\ud800\"\n")]
    [InlineData("application/yaml", "metadata:\n  name: NAME\ndata:\n  k: \"\\udc00\\ud800\"\n")]
    public async Task Create_LoneSurrogate_Answers400(string contentType, string body)
    {
        var (status, response) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", body.Replace("NAME", Name(), StringComparison.Ordinal), contentType);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Status", (string?)response!["kind"]);
    }

    [Fact]
    public async Task Create_UnknownNonAsciiField_IsWarnedAboutInAnAsciiHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/configmaps?dryRun=All")
        {
            Content = new StringContent("{\"metadata\":{\"name\":\"" + Name() + "\"},\"\u00e9t\u00e9\":1}", Encoding.UTF8, "application/json"),
        };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("299 - \"unknown field \\\"\\u00e9t\\u00e9\\\"\"", Assert.Single(response.Headers.GetValues("Warning")));
    }

    [Fact]
    public async Task Create_UnknownNestedFields_AreWarnedAboutAndDropped()
    {
        var name = Name();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/configmaps")
        {
            Content = new StringContent("{\"metadata\":{\"name\":\"" + name + "\",\"bogus\":1,\"labels\":{\"a\":\"b\"}},\"data\":{\"k\":\"v\"},\"extra\":{\"x\":[1]}}", Encoding.UTF8, "application/json"),
        };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(["299 - \"unknown field \\\"metadata.bogus\\\"\"", "299 - \"unknown field \\\"extra\\\"\""], response.Headers.GetValues("Warning"));

        var (status, stored) = await server.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps/" + name);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(stored!["extra"]);
        Assert.Null(stored["metadata"]!["bogus"]);
        Assert.Equal("b", (string?)stored["metadata"]!["labels"]!["a"]);
        Assert.Equal("v", (string?)stored["data"]!["k"]);
    }

    [Theory]
    [InlineData("nope", "nope")]
    [InlineData("a%3Cb%26c%3E", "a\\u003cb\\u0026c\\u003e")]
    [InlineData("%C3%A9t%C3%A9", "\u00e9t\u00e9")]
    public async Task Get_Missing_StatusInUpstreamBytes(string requested, string encoded)
    {
        using var response = await server.Client.GetAsync(new Uri("/api/v1/namespaces/default/configmaps/" + requested, UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"configmaps \\\"" + encoded + "\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"" + encoded + "\",\"kind\":\"configmaps\"},\"code\":404}\n",
            Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task Create_SurrogatePair_IsAccepted()
    {
        var name = Name();
        var (status, response) = await server.PostAsync("/api/v1/namespaces/default/configmaps?dryRun=All", "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":\"\\ud83d\\ude00\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("\U0001F600", (string?)response!["data"]!["k"]);
    }

    [Fact]
    public async Task Create_ObjectLargerThanTheStoreAccepts_Answers413()
    {
        var name = Name();
        var deployment = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"env\":[{\"name\":\"BIG\",\"value\":\"" + new string('x', 3 * 1024 * 1024 - 1024) + "\"}]}]}}}}";
        var (status, response) = await server.PostAsync("/apis/apps/v1/namespaces/default/deployments", deployment);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("RequestEntityTooLarge", (string?)response!["reason"]);
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/apis/apps/v1/namespaces/default/deployments/{name}")).Status);
    }

    [Theory]
    [InlineData("configmaps", "data", "", false)]
    [InlineData("configmaps", "binaryData", "", true)]
    [InlineData("secrets", "data", "data", true)]
    public async Task Create_DataOver1MiB_Answers422(string resource, string field, string causeField, bool base64)
    {
        var bytes = 1024 * 1024 + 10;
        var value = base64 ? Convert.ToBase64String(new byte[bytes]) : new string('x', bytes);
        var body = "{\"metadata\":{\"name\":\"" + Name() + "\"},\"" + field + "\":{\"k\":\"" + value + "\"}}";
        var (status, response) = await server.PostAsync($"/api/v1/namespaces/default/{resource}", body);
        Assert.Equal((HttpStatusCode)422, status);
        var cause = response!["details"]!["causes"]![0]!;
        Assert.Equal("FieldValueTooLong", (string?)cause["reason"]);
        Assert.Equal("Too long: may not be more than 1048576 bytes", (string?)cause["message"]);
        Assert.Equal(causeField, (string?)cause["field"] ?? string.Empty);
    }

    [Fact]
    public async Task Create_DataOfExactly1MiB_IsAccepted()
    {
        var body = "{\"metadata\":{\"name\":\"" + Name() + "\"},\"data\":{\"k\":\"" + new string('x', 1024 * 1024) + "\"}}";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/configmaps?dryRun=All", body)).Status);
    }

    [Theory]
    [InlineData("application/merge-patch+json", "{\"spec\":{\"replicas\":3}}")]
    [InlineData("application/strategic-merge-patch+json", "{\"spec\":{\"replicas\":3}}")]
    [InlineData("application/json-patch+json", "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]")]
    public async Task PatchScale_Works(string contentType, string patch)
    {
        var name = Name();
        var deployment = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/apis/apps/v1/namespaces/default/deployments", deployment)).Status);

        var (status, scale) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/default/deployments/{name}/scale", patch, contentType);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, (int?)scale!["spec"]!["replicas"]);
        Assert.Equal(3, (int?)(await server.GetAsync($"/apis/apps/v1/namespaces/default/deployments/{name}")).Body!["spec"]!["replicas"]);
        var (bad, badBody) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/default/deployments/{name}/scale", "{\"spec\":{\"replicas\":\"many\"}}", "application/merge-patch+json");
        Assert.InRange((int)bad, 400, 499);
        Assert.Equal("Status", (string?)badBody!["kind"]);
        await server.SendAsync(HttpMethod.Delete, $"/apis/apps/v1/namespaces/default/deployments/{name}");
    }

    [Fact]
    public async Task LongUrl_IsServedOrRefusedWithAStatus()
    {
        var selector = "a in (" + string.Join(",", Enumerable.Range(0, 3000).Select(i => "v" + i)) + ")";
        var (status, body) = await server.GetAsync("/api/v1/namespaces/default/configmaps?labelSelector=" + Uri.EscapeDataString(selector));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ConfigMapList", (string?)body!["kind"]);

        var (tooLong, tooLongBody) = await server.GetAsync("/api/v1/namespaces/default/configmaps/" + new string('a', 600 * 1024));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, tooLong);
        Assert.Equal("Status", (string?)tooLongBody!["kind"]);
    }

    private async Task<(HttpStatusCode Status, JsonObject? Body)> SendBytesAsync(HttpMethod method, string path, byte[] body, string contentType)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : null);
    }
}
