using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;

namespace Kubesharp.Client.Tests.Informers;

public sealed class IndexerTests
{
    private static Pod Pod(string ns, string name, string node = "", string rv = "1") =>
        new() { Metadata = new ObjectMeta { Namespace = ns, Name = name, ResourceVersion = rv }, Spec = new PodSpec { NodeName = node } };

    [Fact]
    public void ByIndex_Namespace_ReturnsOnlyThatNamespace()
    {
        var indexer = new Indexer<Pod>();
        indexer.Upsert(Pod("a", "p1"));
        indexer.Upsert(Pod("b", "p2"));

        var inA = indexer.ByIndex(Indexer<Pod>.NamespaceIndex, "a");

        Assert.Equal("p1", Assert.Single(inA).Metadata!.Name);
    }

    [Fact]
    public void Upsert_ChangedIndexValue_MovesBetweenIndexBuckets()
    {
        var indexer = new Indexer<Pod>();
        indexer.AddIndexer("node", p => [p.Spec?.NodeName ?? ""]);
        indexer.Upsert(Pod("a", "p1", "n1"));
        indexer.Upsert(Pod("a", "p1", "n2", "2"));

        Assert.Empty(indexer.ByIndex("node", "n1"));
        Assert.Single(indexer.ByIndex("node", "n2"));
    }

    [Fact]
    public void Replace_MissingObjects_ReportedRemoved()
    {
        var indexer = new Indexer<Pod>();
        indexer.Upsert(Pod("a", "gone"));
        indexer.Upsert(Pod("a", "kept"));

        var removed = indexer.Replace([Pod("a", "kept", rv: "3"), Pod("a", "new")], out var upserts);

        Assert.Equal("gone", Assert.Single(removed).Metadata!.Name);
        Assert.Equal(2, upserts.Count);
        Assert.Null(indexer.Get("a/gone"));
        Assert.DoesNotContain(indexer.ByIndex(Indexer<Pod>.NamespaceIndex, "a"), p => p.Metadata!.Name == "gone");
    }

    [Fact]
    public void Lister_Selector_FiltersByLabels()
    {
        var indexer = new Indexer<Pod>();
        var web = Pod("a", "web");
        web.Metadata!.Labels = new() { ["app"] = "web" };
        indexer.Upsert(web);
        indexer.Upsert(Pod("a", "other"));

        var lister = new Lister<Pod>(indexer);

        Assert.Single(lister.List("a", LabelSelectorMatcher.Parse("app=web")));
        Assert.Equal(2, lister.List().Count);
        Assert.NotNull(lister.Get("a", "web"));
    }
}
