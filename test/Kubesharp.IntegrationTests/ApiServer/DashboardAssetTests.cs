using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// The dashboard's embedded files at /dashboard/: served without credentials (they hold no cluster data), with
/// their content types and a strict content policy, revalidated by ETag; anything else there is a 404 Status, and
/// the API behind them still wants credentials.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class DashboardAssetTests(TestServer server)
{
    [Fact]
    public async Task Dashboard_WithoutCredentials_ServesEmbeddedFilesAndRedirectsTheBarePath()
    {
        using var page = await server.Anonymous.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/dashboard/", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"app.js\"></script>", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", string.Join(' ', page.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());

        // Every module the page imports is there, as JavaScript, with nothing loaded from elsewhere.
        foreach (var name in new[] { "app.js", "api.js", "format.js", "overview.js", "workloads.js", "pods.js", "objects.js", "history.js" })
        {
            using var module = await server.Anonymous.GetAsync("/dashboard/" + name);
            Assert.Equal(HttpStatusCode.OK, module.StatusCode);
            Assert.Equal("text/javascript", module.Content.Headers.ContentType!.MediaType);
            Assert.DoesNotContain("http://", await module.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var css = await server.Anonymous.GetAsync("/dashboard/dashboard.css");
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);

        // Revalidation: the same ETag gets a 304 without a body.
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/dashboard/app.js");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", (await server.Anonymous.GetAsync("/dashboard/app.js")).Headers.ETag!.Tag);
        using var notModified = await server.Anonymous.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        // The API the page calls is not opened by it.
        using var pods = await server.Anonymous.GetAsync("/api/v1/pods");
        Assert.Equal(HttpStatusCode.Unauthorized, pods.StatusCode);
    }

    [Fact]
    public async Task Dashboard_UnknownFileOrWrite_GetsAStatus()
    {
        var (status, body) = await server.GetAsync("/dashboard/nope.js");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("NotFound", (string?)body!["reason"]);
        Assert.Equal("Status", (string?)body["kind"]);

        (status, _) = await server.GetAsync("/dashboard/sub/app.js");
        Assert.Equal(HttpStatusCode.NotFound, status);

        (status, body) = await server.SendAsync(HttpMethod.Post, "/dashboard/app.js", "{}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("MethodNotAllowed", (string?)body!["reason"]);
        Assert.IsType<JsonObject>(body);
    }
}
