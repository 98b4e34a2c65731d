using System.Text;
using System.Text.Json;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ApiMachinery.Tests;

public sealed class Rfc3339Tests
{
    private static readonly JsonSerializerOptions MicroTimes = new() { Converters = { new MicroTimeJsonConverter() } };
    private static readonly JsonSerializerOptions TimeMaps = new() { Converters = { new TimeDictionaryJsonConverter() } };

    [Theory]
    [InlineData("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01t10:00:00z", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.5-01:30", "2024-05-01T11:30:00Z")]
    [InlineData("2024-05-01T10:00:00+15:30", "2024-04-30T18:30:00Z")]
    [InlineData("2024-02-29T23:59:59-00:01", "2024-03-01T00:00:59Z")]
    [InlineData("0999-12-31T23:00:00-01:00", "1000-01-01T00:00:00Z")]
    public void TryParse_Rfc3339_IsReadAsUtc(string text, string time)
    {
        Assert.True(Rfc3339.TryParse(text, out var value));
        Assert.True(Rfc3339.TryParse(Encoding.UTF8.GetBytes(text), out var fromUtf8));

        Assert.Equal(TimeSpan.Zero, value.Offset);
        Assert.Equal(time, Rfc3339.FormatTime(value));
        Assert.Equal(value, fromUtf8);
        Assert.Equal(TimeSpan.Zero, fromUtf8.Offset);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2024-05-01")]
    [InlineData("2024-05-01T10:00:00")]
    [InlineData("2024-05-01 10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.Z")]
    [InlineData("2024-13-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00+0200")]
    [InlineData("2023-02-29T10:00:00Z")]
    [InlineData("2024-04-31T10:00:00Z")]
    [InlineData("0000-05-01T10:00:00Z")]
    [InlineData("2024-05-01T24:00:00Z")]
    [InlineData("2024-05-01T10:60:00Z")]
    [InlineData("2024-05-01T10:00:60Z")]
    [InlineData("2024-05-01T10:00:00+24:00")]
    [InlineData("2024-05-01T10:00:00+01:60")]
    [InlineData("2024-05-01T10:00:00Zjunk")]
    [InlineData("2024-05-01T10:00:00.5")]
    [InlineData("2024-05-0aT10:00:00Z")]
    [InlineData("2024-05-01T10:00:0\u0663Z")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    public void TryParse_NotRfc3339_ReturnsFalse(string text)
    {
        Assert.False(Rfc3339.TryParse(text, out _));
        Assert.False(Rfc3339.TryParse(Encoding.UTF8.GetBytes(text), out _));
    }

    [Theory]
    [InlineData("2024-05-01T10:00:00.99999999Z", "2024-05-01T10:00:00.999999Z")]
    [InlineData("2024-05-01T10:00:00.000001Z", "2024-05-01T10:00:00.000001Z")]
    [InlineData("2024-05-01T10:00:00.0000009Z", "2024-05-01T10:00:00.000000Z")]
    [InlineData("0042-01-02T03:04:05.5Z", "0042-01-02T03:04:05.500000Z")]
    public void FormatMicroTime_TruncatesToMicroseconds(string text, string microTime)
    {
        var value = Rfc3339.Parse(text);
        Span<byte> utf8 = stackalloc byte[Rfc3339.MicroTimeLength];

        Assert.Equal(microTime, Rfc3339.FormatMicroTime(value));
        Assert.Equal(microTime, Encoding.UTF8.GetString(utf8[..Rfc3339.FormatMicroTime(value, utf8)]));
        Assert.Equal(microTime[..19] + "Z", Rfc3339.FormatTime(value));
    }

    [Fact]
    public void FormatMicroTime_KeepsMicroseconds()
    {
        var value = Rfc3339.Parse("2024-05-01T10:00:00.1234567Z");

        Assert.Equal("2024-05-01T10:00:00.123456Z", Rfc3339.FormatMicroTime(value));
        Assert.Equal("2024-05-01T10:00:00Z", Rfc3339.FormatTime(value));
    }

    [Fact]
    public void TimeJsonConverter_NotAString_Throws()
    {
        var options = new JsonSerializerOptions { Converters = { new TimeJsonConverter() } };

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DateTimeOffset>("12", options));
        Assert.Equal("\"2024-05-01T10:00:00Z\"", JsonSerializer.Serialize(Rfc3339.Parse("2024-05-01T10:00:00.9Z"), options));
    }

    [Fact]
    public void TimeJsonConverter_EscapedOrInvalid_ReadsOrSaysWhy()
    {
        var options = new JsonSerializerOptions { Converters = { new TimeJsonConverter() } };

        // Escaped characters are read through the unescaped string.
        Assert.Equal(Rfc3339.Parse("2024-05-01T10:00:00Z"), JsonSerializer.Deserialize<DateTimeOffset>("\"\\u0032024-05-01T10:00:00\\u005a\"", options));
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DateTimeOffset>("\"2024-13-01T10:00:00Z\"", options));
        Assert.Contains("parsing time \"2024-13-01T10:00:00Z\" as RFC 3339 failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeConverters_WriteUtf8Timestamps()
    {
        var value = Rfc3339.Parse("2024-05-01T12:00:00.1234567+02:00");

        Assert.Equal("\"2024-05-01T10:00:00.123456Z\"", JsonSerializer.Serialize(value, MicroTimes));
        Assert.Equal(value, JsonSerializer.Deserialize<DateTimeOffset>("\"2024-05-01T10:00:00.1234567Z\"", MicroTimes));
        Assert.Equal(
            "{\"pod-a\":\"2024-05-01T10:00:00Z\"}",
            JsonSerializer.Serialize(new Dictionary<string, DateTimeOffset> { ["pod-a"] = value }, TimeMaps));
    }
}
