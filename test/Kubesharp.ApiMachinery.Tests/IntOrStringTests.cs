using System.Text.Json;
using Kubesharp.ApiMachinery;

namespace Kubesharp.ApiMachinery.Tests;

public sealed class IntOrStringTests
{
    [Fact]
    public void Json_IntegerAndString_RoundTrip()
    {
        var values = JsonSerializer.Deserialize<List<IntOrString>>("""[8080,"http","25%"]""")!;

        Assert.False(values[0].IsString);
        Assert.Equal(8080, values[0].IntValue);
        Assert.True(values[1].IsString);
        Assert.Equal("http", values[1].StringValue);
        Assert.Equal("""[8080,"http","25%"]""", JsonSerializer.Serialize(values));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("4294967296")]
    [InlineData("true")]
    [InlineData("{}")]
    public void Json_NotStringOrInt32_Throws(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<IntOrString>(json));
    }

    [Theory]
    [InlineData("25%", 10, true, 3)]
    [InlineData("25%", 10, false, 2)]
    [InlineData("100%", 7, false, 7)]
    [InlineData("0%", 7, true, 0)]
    public void GetScaledValueFromIntOrPercent_Percent_Scales(string percent, int total, bool roundUp, int expected)
    {
        Assert.Equal(expected, new IntOrString(percent).GetScaledValueFromIntOrPercent(total, roundUp));
    }

    [Fact]
    public void GetScaledValueFromIntOrPercent_Integer_IsReturnedAsIs()
    {
        Assert.Equal(4, ((IntOrString)4).GetScaledValueFromIntOrPercent(100, roundUp: true));
    }

    [Theory]
    [InlineData("25")]
    [InlineData("a%")]
    [InlineData("%")]
    public void GetScaledValueFromIntOrPercent_NotAPercent_Throws(string value)
    {
        Assert.Throws<FormatException>(() => new IntOrString(value).GetScaledValueFromIntOrPercent(10, roundUp: false));
    }

    [Fact]
    public void Equals_SameKindAndValue_IsEqual()
    {
        Assert.Equal((IntOrString)"80", (IntOrString)"80");
        Assert.NotEqual((IntOrString)"80", (IntOrString)80);
        Assert.Equal("80", ((IntOrString)80).ToString());
    }
}
