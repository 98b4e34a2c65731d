using System.Text;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class TextEncodingCheckTests
{
    [Theory]
    [InlineData("{\"k\":\"\\ud800\"}")]
    [InlineData("{\"k\":\"\\udfff\"}")]
    [InlineData("{\"k\":\"\\ud800\\u0041\"}")]
    [InlineData("{\"k\":\"\\uDBFF\"}")]
    [InlineData("{\"k\\ud800\":1}")]
    public void EnsureJsonText_UnpairedSurrogateEscape_Is400(string json)
    {
        Assert.Equal(400, Assert.Throws<StatusException>(() => TextEncodingCheck.EnsureJsonText(Encoding.UTF8.GetBytes(json))).Code);
        Assert.Equal(400, Assert.Throws<StatusException>(() => JsonDecoder.Decode(json)).Code);
    }

    [Theory]
    [InlineData("{\"k\":\"\\ud83d\\ude00\"}")]
    [InlineData("{\"k\":\"\\\\ud800\"}")]
    [InlineData("{\"k\":\"\\u00e9\\n\\\"\"}")]
    [InlineData("{\"k\":\"\\\\\\\\\"}")]
    public void EnsureJsonText_WellFormed_Passes(string json)
    {
        TextEncodingCheck.EnsureJsonText(Encoding.UTF8.GetBytes(json));
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0xff, 0x7d })]
    [InlineData(new byte[] { 0x22, 0xc3, 0x28, 0x22 })]
    [InlineData(new byte[] { 0x22, 0xed, 0xa0, 0x80, 0x22 })]
    public void EnsureUtf8_InvalidSequence_Is400(byte[] bytes)
    {
        var error = Assert.Throws<StatusException>(() => TextEncodingCheck.EnsureUtf8(bytes));
        Assert.Equal(400, error.Code);
        Assert.Contains("not valid UTF-8 (at byte 1)", error.Message, StringComparison.Ordinal);
    }
}
