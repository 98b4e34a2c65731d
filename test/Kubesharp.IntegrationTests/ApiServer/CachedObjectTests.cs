using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// The cached form of a stored value: the resourceVersion written in at the end of metadata without re-serialising the
/// object, and the same result as parsing and writing it again, whatever shape the stored value has.
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
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => CachedObject.FromStored("/registry/configmaps/ns/a", """{"metadata":{"name":"a"}"""u8, 1));
    }
}
