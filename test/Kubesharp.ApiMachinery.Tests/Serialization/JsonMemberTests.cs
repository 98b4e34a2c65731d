using System.Text;
using System.Text.Json;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class JsonMemberTests
{
    private static readonly byte[] Pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{"kind":"inner"}}"""u8.ToArray();

    [Fact]
    public void Find_TopLevelMember_ReturnsItsValueBytes_NotANestedOneOfTheSameName()
    {
        Assert.Equal("""{"name":"p","labels":{"a":"b"}}""", Encoding.UTF8.GetString(JsonMember.Find(Pod, "metadata"u8)));
        Assert.Equal("\"Pod\"", Encoding.UTF8.GetString(JsonMember.Find(Pod, "kind"u8)));
        Assert.Equal("Pod", JsonMember.FindString(Pod, "kind"u8));
        Assert.Null(JsonMember.FindString(Pod, "metadata"u8));
    }

    [Fact]
    public void Find_MissingMemberOrNotAnObject_Empty()
    {
        Assert.True(JsonMember.Find(Pod, "status"u8).IsEmpty);
        Assert.True(JsonMember.Find("[1,2]"u8, "kind"u8).IsEmpty);
        Assert.Null(JsonMember.FindString("\"Pod\""u8, "kind"u8));
        Assert.ThrowsAny<JsonException>(() => JsonMember.Find("{\"kind\":"u8.ToArray(), "kind"u8).Length);
    }
}
