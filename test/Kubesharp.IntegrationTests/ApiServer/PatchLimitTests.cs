using System.Diagnostics;
using System.Net;
using System.Text;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Patches cannot amplify a small request into a huge object: limits are checked while applying.</summary>
[Collection(ServerCollection.Name)]
public sealed class PatchLimitTests(TestServer server)
{
    private static string DoublingPatch(int copies) =>
        "[" + string.Join(",", Enumerable.Range(0, copies).Select(i => $"{{\"op\":\"copy\",\"from\":\"\",\"path\":\"/x{i}\"}}")) + "]";

    [Theory]
    [InlineData("")]
    [InlineData("?dryRun=All")]
    public async Task JsonPatch_SelfCopyDoubling_IsRefusedQuicklyWithoutMemoryGrowth(string query)
    {
        var name = "amp" + Guid.NewGuid().ToString("N")[..8];
        var path = $"/api/v1/namespaces/default/configmaps/{name}";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":\"" + new string('v', 512) + "\"}}")).Status);
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();

        var (status, body) = await server.SendAsync(HttpMethod.Patch, path + query, DoublingPatch(30), "application/json-patch+json");

        clock.Stop();
        var after = GC.GetTotalMemory(forceFullCollection: false);
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal("Status", (string?)body!["kind"]);
        Assert.StartsWith("Unable to complete the copy, the accumulated size increase of copy is", (string?)body["message"], StringComparison.Ordinal);
        // A doubling document would pass 500 MB by the 20th copy; the budget stops it near 3 MiB. The bound leaves
        // room for the test classes that run beside this one in the same process.
        Assert.True(after - before < 256L * 1024 * 1024, $"managed memory grew by {after - before} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        var (_, stored) = await server.GetAsync(path);
        Assert.Null(stored!["x0"]);
        await server.SendAsync(HttpMethod.Delete, path);
    }

    [Fact]
    public async Task JsonPatch_MoreThan10000Operations_Answers413()
    {
        var ops = "[" + string.Join(",", Enumerable.Repeat("{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Namespace\"}", 10_001)) + "]";
        var (status, body) = await server.SendAsync(HttpMethod.Patch, "/api/v1/namespaces/default", ops, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("The allowed maximum operations in a JSON patch is 10000, got 10001", ((string?)body!["message"])!["Request entity too large: ".Length..]);
    }

    [Theory]
    [InlineData("application/merge-patch+json")]
    [InlineData("application/strategic-merge-patch+json")]
    public async Task MergePatches_ResultOverTheLimit_Answers413(string contentType)
    {
        var name = "big" + Guid.NewGuid().ToString("N")[..8];
        var path = $"/api/v1/namespaces/default/configmaps/{name}";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"a\":\"" + new string('a', 1_000_000) + "\"}}")).Status);
        // 1 MB stored plus 2.2 MB patched in: the result passes the 3 MiB a request may carry.
        var patch = new StringBuilder("{\"metadata\":{\"annotations\":{\"big\":\"").Append('b', 2_200_000).Append("\"}}}").ToString();

        var (status, body) = await server.SendAsync(HttpMethod.Patch, path, patch, contentType);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("RequestEntityTooLarge", (string?)body!["reason"]);
        await server.SendAsync(HttpMethod.Delete, path);
    }
}
