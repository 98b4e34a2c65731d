using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Kubesharp.Api.Tests.OpenApi;
using Kubesharp.ApiServer.Discovery;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>A server that publishes the built-in OpenAPI documents, as <c>kubesharp server</c> does.</summary>
public sealed class OpenApiTestServer : TestServer
{
    protected override OpenApiEndpoint? OpenApi => OpenApiEndpoint.BuiltIn();
}

/// <summary>/openapi/v2 in JSON and in the gnostic protobuf form kubectl asks for, chosen by Accept.</summary>
public sealed class OpenApiV2Tests(OpenApiTestServer server) : IClassFixture<OpenApiTestServer>
{
    private const string Protobuf = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
    private const string ProtobufAsKubectlAsks = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

    private async Task<HttpResponseMessage> GetV2Async(string? accept, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v2");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return await server.Client.SendAsync(request);
    }

    [Theory]
    [InlineData(ProtobufAsKubectlAsks, true)]
    [InlineData(Protobuf, true)]
    [InlineData("application/json;q=0.5, " + ProtobufAsKubectlAsks, true)]
    [InlineData(ProtobufAsKubectlAsks + ";q=0.2, application/json", false)]
    [InlineData("text/html, " + Protobuf + ";q=0.9, */*;q=0.1", true)]
    [InlineData("application/json, " + Protobuf + ";q=0", false)]
    [InlineData("*/*", false)]
    [InlineData("application/*", false)]
    [InlineData(null, false)]
    public async Task GetV2_Accept_AnswersTheFormItPrefers(string? accept, bool protobuf)
    {
        using var response = await GetV2Async(accept);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(protobuf ? Protobuf : "application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", response.Headers.Vary);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (protobuf)
        {
            Assert.Equal("2.0", new WireMessage(body).String(1));
        }
        else
        {
            Assert.Equal("2.0", (string?)JsonNode.Parse(body)!["swagger"]);
        }
    }

    [Fact]
    public async Task GetV2_ProtobufWithJsonETag_NotModified()
    {
        using var json = await GetV2Async("application/json");
        using var protobuf = await GetV2Async(ProtobufAsKubectlAsks);
        var etag = json.Headers.ETag?.Tag;

        Assert.NotNull(etag);
        Assert.Equal(etag, protobuf.Headers.ETag?.Tag);
        using var again = await GetV2Async(ProtobufAsKubectlAsks, etag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        using var stale = await GetV2Async(ProtobufAsKubectlAsks, "\"0\"");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
    }

    [Fact]
    public async Task GetV2_UnservedMediaType_NotAcceptableStatus()
    {
        using var response = await GetV2Async("text/html, application/xml;q=0.9");

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("NotAcceptable", (string?)status["reason"]);
    }

    [Fact]
    public async Task GetV2_CustomResourceDefined_ProtobufAndJsonCarryItsKind()
    {
        var group = "t" + Guid.NewGuid().ToString("N")[..10] + ".example.com";
        var definition = $"com.example.{group.Split('.')[0]}.v1.Widget";
        var (status, created) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CustomResourceTests.WidgetDefinition(group));
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        try
        {
            var document = await WaitForV2Async(d => d.Message(9).Named(1).ContainsKey(definition), "the custom kind in /openapi/v2");

            var widget = document.Message(9).Named(1)[definition];
            var spec = widget.Message(25).Named(1)["spec"].Message(25).Named(1);
            // color keeps its enum (Any values), replicas its bounds (doubles) and default.
            Assert.Equal(["red", "blue", "green"], spec["color"].Messages(20).Select(a => a.String(2)!.Trim().Trim('"')));
            Assert.Equal("1", spec["replicas"].Message(5).String(2)!.Trim());
            Assert.Equal(10d, spec["replicas"].Double(7));
            // A node that keeps unknown fields is untyped in v2, so kubectl accepts what it holds.
            Assert.False(spec["extra"].Has(22));
            Assert.Equal(["string"], spec["labels"].Message(21).Message(1).Message(22).Strings(1));
            Assert.Contains("x-kubernetes-group-version-kind", widget.Named(31).Keys);
            var paths = document.Message(8).Named(2);
            Assert.Contains($"/apis/{group}/v1/namespaces/{{namespace}}/widgets/{{name}}", paths.Keys);
            // The v1beta1 version keeps every field: published without type and properties.
            var beta = document.Message(9).Named(1)[$"com.example.{group.Split('.')[0]}.v1beta1.Widget"];
            Assert.False(beta.Has(22) || beta.Has(25));

            var (_, json) = await server.GetAsync("/openapi/v2");
            Assert.Equal("Widget", (string?)json!["definitions"]![definition]!["x-kubernetes-group-version-kind"]![0]!["kind"]);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
        }

        await WaitForV2Async(d => !d.Message(9).Named(1).ContainsKey(definition), "the custom kind gone from /openapi/v2");
    }

    private async Task<WireMessage> WaitForV2Async(Func<WireMessage, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await GetV2Async(ProtobufAsKubectlAsks);
            var document = new WireMessage(await response.Content.ReadAsByteArrayAsync());
            if (condition(document))
            {
                return document;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"{what}: not seen after {clock.Elapsed}");
            }

            await Task.Delay(50);
        }
    }
}
