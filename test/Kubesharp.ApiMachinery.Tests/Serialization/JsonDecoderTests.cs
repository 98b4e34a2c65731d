using System.Text;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class JsonDecoderTests
{
    [Fact]
    public void Decode_Valid_ReturnsTree()
    {
        Assert.Equal("""{"a":[1,2]}""", JsonDecoder.Decode("""{"a": [1, 2]}""")!.ToJsonString());
    }

    [Fact]
    public void Decode_TooDeep_BadRequest()
    {
        var json = new string('[', 1500) + new string(']', 1500);

        var error = Assert.Throws<StatusException>(() => JsonDecoder.Decode(json));

        Assert.Equal(400, error.Code);
        Assert.StartsWith("json parse error:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("{} {}")]
    [InlineData("{\"a\":1,}")]
    public void Decode_Malformed_BadRequest(string json)
    {
        Assert.Equal(400, Assert.Throws<StatusException>(() => JsonDecoder.Decode(Encoding.UTF8.GetBytes(json))).Code);
    }
}
