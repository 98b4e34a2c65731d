using System.Net;
using System.Text;

namespace Kubesharp.IntegrationTests.ApiServer;

[Collection(ServerCollection.Name)]
public sealed class BadInputTests(TestServer server)
{
    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2,3]")]
    [InlineData("\"string\"")]
    [InlineData("{\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}")]
    [InlineData("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}")]
    [InlineData("{\"apiVersion\":\"v9\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}")]
    [InlineData("{\"metadata\":\"not an object\"}")]
    [InlineData("{\"metadata\":{\"name\":123}}")]
    [InlineData("{\"metadata\":{\"labels\":[1]}}")]
    public async Task Create_MalformedBody_Answers4xxStatus(string body)
    {
        var (status, response) = await server.PostAsync("/api/v1/namespaces/default/configmaps", body);
        Assert.InRange((int)status, 400, 499);
        Assert.Equal("Status", (string?)response!["kind"]);
    }

    [Fact]
    public async Task Create_DeeplyNestedJson_Answers400()
    {
        var body = "{\"metadata\":{\"name\":\"deep\"},\"data\":" + new string('[', 5000) + new string(']', 5000) + "}";
        var (status, _) = await server.PostAsync("/api/v1/namespaces/default/configmaps", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Create_YamlAliasBomb_Answers400()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nmetadata: {name: bomb}\n";
        var (status, _) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", yaml, "application/yaml");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Create_YamlBody_IsAccepted()
    {
        var name = "y" + Guid.NewGuid().ToString("N")[..8];
        var yaml = $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  num: \"1\"\n";
        var (status, body) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", yaml, "application/yaml");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("1", (string?)body!["data"]!["num"]);
    }

    [Fact]
    public async Task Create_BodyOver3MiB_Answers413()
    {
        var body = "{\"metadata\":{\"name\":\"big\"},\"data\":{\"k\":\"" + new string('x', 3 * 1024 * 1024 + 10) + "\"}}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/namespaces/default/configmaps") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // With Expect: 100-continue the refusal arrives before the client sends the body it would otherwise be writing.
        request.Headers.ExpectContinue = true;
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("RequestEntityTooLarge", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_UnsupportedContentType_Answers415()
    {
        var (status, _) = await server.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", "x", "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
    }

    [Theory]
    [InlineData("/api/v1/namespaces/default/configmaps?limit=abc")]
    [InlineData("/api/v1/namespaces/default/configmaps?labelSelector=%3D%3D%3D")]
    [InlineData("/api/v1/namespaces/default/configmaps?resourceVersion=abc&resourceVersionMatch=Exact")]
    [InlineData("/api/v1/namespaces/default/configmaps?resourceVersionMatch=Sometimes&resourceVersion=1")]
    public async Task List_BadQuery_Answers4xx(string path)
    {
        var (status, body) = await server.GetAsync(path);
        Assert.InRange((int)status, 400, 499);
        Assert.Equal("Status", (string?)body!["kind"]);
    }

    [Theory]
    [InlineData("PUT", "/api/v1/namespaces/default/configmaps")]
    [InlineData("POST", "/api/v1/namespaces/default/configmaps/x")]
    [InlineData("PATCH", "/api/v1/namespaces/default/configmaps/missing")]
    public async Task WrongVerbOrMissingObject_AnswersStatusWithout500(string method, string path)
    {
        var (status, body) = await server.SendAsync(new HttpMethod(method), path, "{}", "application/merge-patch+json");
        Assert.InRange((int)status, 400, 499);
        Assert.Equal("Status", (string?)body!["kind"]);
    }

    [Fact]
    public async Task Patch_InvalidJson_Answers400()
    {
        var (status, _) = await server.SendAsync(HttpMethod.Patch, "/api/v1/namespaces/default", "{oops", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Anything_Random_NeverAnswers500()
    {
        var random = new Random(42);
        for (var i = 0; i < 30; i++)
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await server.Client.PostAsync("/api/v1/namespaces/default/configmaps", content);
            Assert.InRange((int)response.StatusCode, 400, 499);
            Assert.DoesNotContain("   at ", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
        }
    }
}
