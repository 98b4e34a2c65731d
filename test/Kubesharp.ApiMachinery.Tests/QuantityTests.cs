using System.Globalization;
using System.Text.Json;
using Kubesharp.ApiMachinery;

namespace Kubesharp.ApiMachinery.Tests;

public sealed class QuantityTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("0Mi", "0")]
    [InlineData("100m", "100m")]
    [InlineData("1000m", "1")]
    [InlineData("0.5", "500m")]
    [InlineData(".5", "500m")]
    [InlineData("5.", "5")]
    [InlineData("+1", "1")]
    [InlineData("-1", "-1")]
    [InlineData("1.0", "1")]
    [InlineData("1000", "1k")]
    [InlineData("1500", "1500")]
    [InlineData("1.5k", "1500")]
    [InlineData("1k", "1k")]
    [InlineData("1M", "1M")]
    [InlineData("1E", "1E")]
    [InlineData("1n", "1n")]
    [InlineData("1u", "1u")]
    [InlineData("1000u", "1m")]
    [InlineData("0.0000000001", "1n")]
    [InlineData("-0.0000000001", "-1n")]
    [InlineData("1.0000000001", "1000000001n")]
    [InlineData("1Ki", "1Ki")]
    [InlineData("1024Ki", "1Mi")]
    [InlineData("1536Ki", "1536Ki")]
    [InlineData("1.5Gi", "1536Mi")]
    [InlineData("100Mi", "100Mi")]
    [InlineData("0.5Ki", "512")]
    [InlineData("0.1Ki", "102400m")]
    [InlineData("8Ei", "9223372036854775807")]
    [InlineData("1e3", "1e3")]
    [InlineData("1E3", "1e3")]
    [InlineData("1e+3", "1e3")]
    [InlineData("1e-3", "1e-3")]
    [InlineData("12e6", "12e6")]
    [InlineData("1000e0", "1e3")]
    [InlineData("10e1", "100")]
    public void Parse_Valid_WritesCanonicalForm(string text, string canonical)
    {
        Assert.Equal(canonical, Quantity.Parse(text).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("abc")]
    [InlineData(".")]
    [InlineData("+")]
    [InlineData("--1")]
    [InlineData("1.2.3")]
    [InlineData("1e")]
    [InlineData("1e1.5")]
    [InlineData("Ki")]
    [InlineData("1Kii")]
    [InlineData("1x")]
    [InlineData("1K")]
    [InlineData("1mi")]
    [InlineData("1e99999")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(Quantity.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Quantity.Parse(text));
    }

    [Fact]
    public void Compare_DifferentFormats_ComparesValues()
    {
        Assert.True(Quantity.Parse("1Gi") > Quantity.Parse("1G"));
        Assert.Equal(Quantity.Parse("1"), Quantity.Parse("1000m"));
        Assert.Equal(Quantity.Parse("1Ki"), Quantity.Parse("1024"));
        Assert.Equal(Quantity.Parse("1Ki").GetHashCode(), Quantity.Parse("1024").GetHashCode());
        Assert.True(Quantity.Parse("500m") < Quantity.Parse("1"));
        Assert.True(Quantity.Parse("-1") < Quantity.Zero);
        Assert.Equal(0, Quantity.Parse("0").CompareTo(Quantity.Parse("0Gi")));
    }

    [Fact]
    public void Add_KeepsTheLeftFormat()
    {
        Assert.Equal("1", (Quantity.Parse("100m") + Quantity.Parse("900m")).ToString());
        Assert.Equal("512Mi", (Quantity.Parse("1Gi") - Quantity.Parse("512Mi")).ToString());
        Assert.Equal("1Gi", (Quantity.Zero + Quantity.Parse("1Gi")).ToString());
        Assert.Equal("-250m", (-Quantity.Parse("250m")).ToString());
        Assert.Equal("3Gi", Quantity.Parse("1Gi").Multiply(3).ToString());
    }

    [Theory]
    [InlineData("1.5", 2, 1500)]
    [InlineData("100m", 1, 100)]
    [InlineData("1.1m", 1, 2)]
    [InlineData("-1.5", -2, -1500)]
    [InlineData("1Ki", 1024, 1024000)]
    [InlineData("1n", 1, 1)]
    public void Value_RoundsUpAwayFromZero(string text, long value, long milliValue)
    {
        var q = Quantity.Parse(text);

        Assert.Equal(value, q.Value());
        Assert.Equal(milliValue, q.MilliValue());
    }

    [Fact]
    public void Value_BeyondLong_Saturates()
    {
        Assert.Equal(long.MaxValue, Quantity.Parse("1e30").Value());
        Assert.Equal(long.MinValue, Quantity.Parse("-1e30").Value());
    }

    [Fact]
    public void FromMilliAndFromScaled_WriteCanonically()
    {
        Assert.Equal("1500m", Quantity.FromMilli(1500).ToString());
        Assert.Equal("2", Quantity.FromMilli(2000).ToString());
        Assert.Equal("64Mi", new Quantity(64L * 1024 * 1024, QuantityFormat.BinarySI).ToString());
        Assert.Equal("5G", Quantity.FromScaled(5, 9).ToString());
        Assert.Equal(0.25, Quantity.Parse("250m").ToDouble(), 10);
    }

    [Fact]
    public void ToString_ParsesBackToTheSameValue()
    {
        var random = new Random(20240501);
        string[] suffixes = ["", "m", "k", "M", "G", "n", "u", "Ki", "Mi", "Gi", "e3", "e-2"];
        for (var i = 0; i < 5000; i++)
        {
            var whole = random.NextInt64(-1_000_000_000, 1_000_000_000);
            var fraction = random.Next(0, 1000);
            var text = string.Create(CultureInfo.InvariantCulture, $"{whole}.{fraction:D3}{suffixes[random.Next(suffixes.Length)]}");
            var q = Quantity.Parse(text);

            var written = q.ToString();
            var reparsed = Quantity.Parse(written);

            Assert.Equal(q, reparsed);
            Assert.Equal(written, reparsed.ToString());
        }
    }

    [Fact]
    public void Json_ReadsStringsAndNumbers_WritesStrings()
    {
        var values = JsonSerializer.Deserialize<Dictionary<string, Quantity>>("""{"a":" 2Gi ","b":1,"c":0.5,"d":null}""")!;

        Assert.Equal("2Gi", values["a"].ToString());
        Assert.Equal("1", values["b"].ToString());
        Assert.Equal("500m", values["c"].ToString());
        Assert.True(values["d"].IsZero);
        Assert.Equal("\"500m\"", JsonSerializer.Serialize(Quantity.Parse("0.5")));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Quantity>("\"1 Gi\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Quantity>("true"));
    }
}
