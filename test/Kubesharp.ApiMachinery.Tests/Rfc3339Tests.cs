using System.Text.Json;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.ApiMachinery.Tests;

public sealed class Rfc3339Tests
{
    [Theory]
    [InlineData("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01t10:00:00z", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.5-01:30", "2024-05-01T11:30:00Z")]
    public void TryParse_Rfc3339_IsReadAsUtc(string text, string time)
    {
        Assert.True(Rfc3339.TryParse(text, out var value));

        Assert.Equal(TimeSpan.Zero, value.Offset);
        Assert.Equal(time, Rfc3339.FormatTime(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("2024-05-01")]
    [InlineData("2024-05-01T10:00:00")]
    [InlineData("2024-05-01 10:00:00Z")]
    [InlineData("2024-05-01T10:00:00.Z")]
    [InlineData("2024-13-01T10:00:00Z")]
    [InlineData("2024-05-01T10:00:00+0200")]
    public void TryParse_NotRfc3339_ReturnsFalse(string text)
    {
        Assert.False(Rfc3339.TryParse(text, out _));
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
}
