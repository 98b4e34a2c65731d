using System.Text;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// The watch cache's per-namespace view: always the same objects as the whole resource's under the namespace's key
/// prefix, in key order, through fills, changes, deletes and unreadable values.
/// </summary>
public sealed class ResourceCacheTests
{
    private static CachedObject Map(string ns, string name, long revision = 1) => CachedObject.FromStored(
        $"/registry/configmaps/{ns}/{name}",
        Encoding.UTF8.GetBytes($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","namespace":"{{{ns}}}"}}"""),
        revision);

    /// <summary>What a scan of the whole resource by key prefix finds, which the namespace's view must equal.</summary>
    private static List<string> Scanned(ResourceCache cache, string ns) =>
        cache.Snapshot.Keys.Where(k => k.StartsWith($"/registry/configmaps/{ns}/", StringComparison.Ordinal)).ToList();

    [Fact]
    public void InNamespace_AfterFillAndChanges_HoldsExactlyTheNamespacesObjectsInKeyOrder()
    {
        var cache = new ResourceCache("configmaps", 100);
        // "a" is a prefix of "a-b": a scan by "a/" must not take "a-b"'s objects, and neither may the index.
        cache.Reset([Map("a", "z"), Map("a-b", "x"), Map("a", "m"), Map("b", "y")], 1);
        Assert.Equal(Scanned(cache, "a"), cache.InNamespace("a").Keys);
        Assert.Equal(["/registry/configmaps/a/m", "/registry/configmaps/a/z"], cache.InNamespace("a").Keys);

        cache.Apply(new CacheEvent(CacheEventType.Added, 2, Map("a", "c", 2), null));
        cache.Apply(new CacheEvent(CacheEventType.Modified, 3, Map("a-b", "x", 3), Map("a-b", "x")));
        cache.Apply(new CacheEvent(CacheEventType.Deleted, 4, Map("b", "y", 4), null));

        foreach (var ns in new[] { "a", "a-b", "b", "none" })
        {
            Assert.Equal(Scanned(cache, ns), cache.InNamespace(ns).Keys);
        }

        Assert.Equal(3, cache.InNamespace("a-b").Single().Value.Revision);
        Assert.Empty(cache.InNamespace("b"));
        var (objects, revision) = cache.SnapshotAt(3, "a");
        Assert.Equal((3, 4L), (objects.Count, revision));
    }

    [Fact]
    public void InNamespace_ValueBecomesUnreadable_LeavesTheNamespacesView()
    {
        var cache = new ResourceCache("configmaps", 100);
        cache.Reset([Map("a", "bad"), Map("a", "good")], 1);

        cache.MarkCorrupt(new CorruptObject("/registry/configmaps/a/bad", "cannot decrypt", 2), 2);

        Assert.Equal(["/registry/configmaps/a/good"], cache.InNamespace("a").Keys);
        Assert.Equal(Scanned(cache, "a"), cache.InNamespace("a").Keys);
    }

    [Fact]
    public void Subscribe_WithNamespace_SnapshotIsThatNamespacesObjects()
    {
        var cache = new ResourceCache("configmaps", 100);
        cache.Reset([Map("a", "one"), Map("b", "two")], 1);

        using var subscription = cache.Subscribe(long.MaxValue, 1, wantsBookmarks: false, out _, out var snapshot, out _, "b");

        Assert.Equal(["/registry/configmaps/b/two"], snapshot.Keys);
    }

    [Fact]
    public void InNamespace_ClusterScopedKeys_AreInNoNamespace()
    {
        var cache = new ResourceCache("namespaces", 100);
        cache.Reset([CachedObject.FromStored("/registry/namespaces/a", """{"kind":"Namespace","metadata":{"name":"a"}}"""u8, 1)], 1);

        Assert.Empty(cache.InNamespace("a"));
        Assert.Single(cache.Snapshot);
    }
}
