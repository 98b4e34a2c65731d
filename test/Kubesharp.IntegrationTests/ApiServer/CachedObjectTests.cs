using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// The cached form of a stored value: the resourceVersion written in at the end of metadata without re-serialising the
/// object, and the same result as parsing and writing it again, whatever shape the stored value has; the parsed view
/// made only when read.
/// </summary>
public sealed class CachedObjectTests
{
    public static TheoryData<string> StoredValues() => new()
    {
        """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"ns","uid":"u","labels":{"app":"web","tier":"x"}},"data":{"k":"v"}}""",
        """{"kind":"Namespace","metadata":{"name":"cluster-scoped"}}""",
        """{"kind":"ConfigMap","metadata":{}}""",
        """{"metadata":{"name":"first"},"kind":"ConfigMap","data":{"metadata":{"name":"nested is not metadata"}}}""",
        """{"kind":"ConfigMap","metadata":{"name":"escaped \u00e9\u003c","namespace":null,"labels":null}}""",
    };

    public static TheoryData<string> OtherShapes() => new()
    {
        // A resourceVersion stored by another writer, labels that are not strings, no metadata.
        """{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}""",
        """{"kind":"ConfigMap","metadata":{"name":"a","labels":{"n":1}}}""",
        """{"kind":"ConfigMap"}""",
    };

    [Theory]
    [MemberData(nameof(StoredValues))]
    [MemberData(nameof(OtherShapes))]
    public void FromStored_AnyStoredValue_SameAsParsedAndWrittenAgain(string stored)
    {
        var spliced = CachedObject.FromStored("/registry/configmaps/ns/a", Encoding.UTF8.GetBytes(stored), 42);
        var reparsed = CachedObject.FromNode("/registry/configmaps/ns/a", JsonNode.Parse(stored)!.AsObject(), 42);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(reparsed.Json), JsonNode.Parse(spliced.Json)), Encoding.UTF8.GetString(spliced.Json));
        Assert.Equal("42", spliced.Root.GetProperty("metadata").GetProperty("resourceVersion").GetString());
        Assert.Equal(reparsed.Name, spliced.Name);
        Assert.Equal(reparsed.Namespace, spliced.Namespace);
        Assert.Equal(reparsed.Labels, spliced.Labels);
        Assert.Equal(42, spliced.Revision);
    }

    [Theory]
    [MemberData(nameof(StoredValues))]
    public void FromStored_ValueTheServerWrote_ByteForByteAsBefore(string stored)
    {
        // What the registry stores is what the serializer writes; for it the cached bytes are those of the node path.
        var written = JsonNode.Parse(stored)!.ToJsonString();
        var spliced = CachedObject.FromStored("/registry/configmaps/ns/a", Encoding.UTF8.GetBytes(written), 7);
        var reparsed = CachedObject.FromNode("/registry/configmaps/ns/a", JsonNode.Parse(written)!.AsObject(), 7);

        Assert.Equal(Encoding.UTF8.GetString(reparsed.Json), Encoding.UTF8.GetString(spliced.Json));
    }

    [Fact]
    public void FromStored_Truncated_Refused()
    {
        Assert.ThrowsAny<JsonException>(() => CachedObject.FromStored("/registry/configmaps/ns/a", """{"metadata":{"name":"a"}"""u8, 1));
    }

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
    public void FromStored_ObjectNeverRead_ParsedOnlyWhenRead()
    {
        var cached = CachedObject.FromStored("/registry/pods/ns/p", Encoding.UTF8.GetBytes(Pod().ToJsonString()), 42);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var root = cached.Root;

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before > 0, "the stored value's parsed view was kept from the write");
        Assert.Equal("42", root.GetProperty("metadata").GetProperty("resourceVersion").GetString());
    }

    [Fact]
    public async Task Root_ReadConcurrently_EveryReaderSeesTheSameObject()
    {
        var cached = CachedObject.FromNode("/registry/pods/ns/p", Pod(), 7);
        var names = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => cached.Root.GetProperty("metadata").GetProperty("name").GetString())));
        Assert.All(names, n => Assert.Equal("p", n));
    }

    [Fact]
    public void FieldTextAndMetadataJson_ReadWithoutMakingTheParsedView_SameAsTheParsedView()
    {
        var stored = """{"kind":"Pod","metadata":{"name":"p","namespace":"ns","labels":{"a":"b"}},"spec":{"nodeName":"n\u00e9","hostNetwork":true,"priority":7,"containers":[{"name":"c"}]},"status":{"phase":"Running"}}""";
        var cached = CachedObject.FromStored("/registry/pods/ns/p", Encoding.UTF8.GetBytes(stored), 9);

        Assert.Equal("n\u00e9", cached.FieldText("spec.nodeName"));
        Assert.Equal("true", cached.FieldText("spec.hostNetwork"));
        Assert.Equal("7", cached.FieldText("spec.priority"));
        Assert.Equal("Running", cached.FieldText("status.phase"));
        Assert.Equal(string.Empty, cached.FieldText("spec.containers"));
        Assert.Equal(string.Empty, cached.FieldText("spec.nodeName.deeper"));
        Assert.Equal(string.Empty, cached.FieldText("status.podIP"));
        Assert.Equal("n\u00e9", cached.FieldText("spec.nodeName"));
        var metadata = Encoding.UTF8.GetString(cached.MetadataJson);
        Assert.False(cached.HasParsedView);

        Assert.Equal(cached.Metadata.GetRawText(), metadata);
        Assert.Equal("9", (string?)JsonNode.Parse(metadata)!["resourceVersion"]);
        Assert.True(cached.HasParsedView);
    }

    [Fact]
    public void FromStored_ObjectsWithEqualLabels_HoldOneCopyOfThemAndOfTheNamespace()
    {
        static byte[] Pod(string name) => Encoding.UTF8.GetBytes(
            $$$$"""{"kind":"Pod","metadata":{"name":"{{{{name}}}}","namespace":"shop","labels":{"app":"web","pod-template-hash":"5d8f"}}}""");

        var first = CachedObject.FromStored("/registry/pods/shop/web-1", Pod("web-1"), 7);
        var second = CachedObject.FromStored("/registry/pods/shop/web-2", Pod("web-2"), 8);
        var unlabelled = CachedObject.FromStored("/registry/pods/shop/bare", """{"kind":"Pod","metadata":{"name":"bare","namespace":"shop"}}"""u8, 9);

        Assert.Same(first.Labels, second.Labels);
        Assert.Same(first.Namespace, second.Namespace);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = "5d8f" }, second.Labels);
        Assert.Empty(unlabelled.Labels);
        Assert.Equal(("web-1", "web-2"), (first.Name, second.Name));
    }
}
