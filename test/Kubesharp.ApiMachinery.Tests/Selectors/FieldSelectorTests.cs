using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Selectors;

namespace Kubesharp.ApiMachinery.Tests.Selectors;

public sealed class FieldSelectorTests
{
    private static readonly Dictionary<string, string> Pod = new()
    {
        ["metadata.name"] = "web-1",
        ["metadata.namespace"] = "default",
        ["status.phase"] = "Running",
        ["spec.nodeName"] = "node-1",
    };

    [Theory]
    [InlineData("", true)]
    [InlineData("metadata.name=web-1", true)]
    [InlineData("metadata.name==web-1", true)]
    [InlineData("metadata.name=web-2", false)]
    [InlineData("status.phase!=Running", false)]
    [InlineData("status.phase!=Pending", true)]
    [InlineData("metadata.name=web-1,status.phase!=Running", false)]
    [InlineData("metadata.name=web-1,spec.nodeName=node-1", true)]
    [InlineData("spec.nodeName=", false)]
    public void Matches_Terms_AllMustHold(string selector, bool expected)
    {
        Assert.Equal(expected, FieldSelector.Parse(selector).Matches(Pod));
    }

    [Fact]
    public void Matches_AbsentField_ComparedAsEmpty()
    {
        Assert.True(FieldSelector.Parse("spec.nodeName=").Matches(_ => null));
        Assert.True(FieldSelector.Parse("spec.nodeName!=x").Matches(_ => null));
    }

    [Fact]
    public void Parse_EscapedValue_Unescaped()
    {
        var selector = FieldSelector.Parse(@"metadata.name=a\,b\=c\\d");

        Assert.Equal(@"a,b=c\d", Assert.Single(selector.Terms).Value);
        Assert.Equal(@"metadata.name=a\,b\=c\\d", selector.ToString());
    }

    [Theory]
    [InlineData("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'")]
    [InlineData("a=b=c", "invalid field selector: unescaped character in value: 61")]
    [InlineData(@"a=b\x", @"invalid field selector: invalid escape sequence: \x")]
    [InlineData(@"a=b\", @"invalid field selector: invalid escape sequence: \")]
    public void Parse_Malformed_BadRequest(string selector, string message)
    {
        var error = Assert.Throws<StatusException>(() => FieldSelector.Parse(selector));

        Assert.Equal(400, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void RequireSupported_UnknownField_UpstreamMessage()
    {
        var selector = FieldSelector.Parse("metadata.name=x,spec.foo=y");

        var error = Assert.Throws<StatusException>(() => selector.RequireSupported(f => f.StartsWith("metadata.", StringComparison.Ordinal)));

        Assert.Equal("field label not supported: spec.foo", error.Message);
        Assert.Equal(400, error.Code);
    }

    [Fact]
    public void TryGetExactMatch_EqualityTerm_Found()
    {
        var selector = FieldSelector.Parse("spec.nodeName=node-1,status.phase!=Failed");

        Assert.True(selector.TryGetExactMatch("spec.nodeName", out var node));
        Assert.Equal("node-1", node);
        Assert.False(selector.TryGetExactMatch("status.phase", out _));
    }
}
