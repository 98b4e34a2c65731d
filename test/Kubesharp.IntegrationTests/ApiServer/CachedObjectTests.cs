using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.IntegrationTests.ApiServer;

public sealed class CachedObjectTests
{
    private static JsonObject Pod() => JsonNode.Parse("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","uid":"u-1","labels":{"app":"web"}},
         "spec":{"nodeName":"n1","containers":[{"name":"c","image":"pause"}]}}
        """)!.AsObject();

    [Fact]
    public void FromNode_ObjectNeverRead_KeepsOnlyItsJson()
    {
        var cached = CachedObject.FromNode("/registry/pods/ns/p", Pod(), 42);

        // The parsed view is made on the first read and kept: a second read allocates nothing.
        var first = GC.GetAllocatedBytesForCurrentThread();
        var root = cached.Root;
        var parsing = GC.GetAllocatedBytesForCurrentThread() - first;
        var second = GC.GetAllocatedBytesForCurrentThread();
        _ = cached.Root;
        var again = GC.GetAllocatedBytesForCurrentThread() - second;

        Assert.True(parsing > 0, "the parsed view was made before anyone asked for it");
        Assert.Equal(0, again);
        Assert.Equal("n1", root.GetProperty("spec").GetProperty("nodeName").GetString());
        Assert.Equal("42", root.GetProperty("metadata").GetProperty("resourceVersion").GetString());
        Assert.Equal("u-1", cached.Uid);
        Assert.Equal("web", cached.Labels["app"]);
        using var fromJson = JsonDocument.Parse(cached.Json);
        Assert.Equal(fromJson.RootElement.GetRawText(), root.GetRawText());
    }

    [Fact]
    public async Task Root_ReadConcurrently_EveryReaderSeesTheSameObject()
    {
        var cached = CachedObject.FromNode("/registry/pods/ns/p", Pod(), 7);
        var names = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => cached.Root.GetProperty("metadata").GetProperty("name").GetString())));
        Assert.All(names, n => Assert.Equal("p", n));
    }
}
