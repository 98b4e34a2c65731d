using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Selectors;

namespace Kubesharp.ApiMachinery.Tests.Selectors;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "frontend", ["replicas"] = "3" };

    [Theory]
    [InlineData("", true)]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app=db", false)]
    [InlineData("app!=db", true)]
    [InlineData("missing!=x", true)]
    [InlineData("app in (web,db)", true)]
    [InlineData("app in (db)", false)]
    [InlineData("app notin (db)", true)]
    [InlineData("missing notin (db)", true)]
    [InlineData("app notin (web)", false)]
    [InlineData("app", true)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("!app", false)]
    [InlineData("app=web,tier=frontend", true)]
    [InlineData("app=web,tier=backend", false)]
    [InlineData("app=web, !legacy ,tier in (frontend)", true)]
    [InlineData("replicas>2", true)]
    [InlineData("replicas<2", false)]
    [InlineData("app>2", false)]
    [InlineData("in=x", false)]
    public void Matches_Syntax_EvaluatesLikeUpstream(string selector, bool expected)
    {
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));
    }

    [Fact]
    public void Matches_JsonLabels_SameAsDictionary()
    {
        var labels = JsonNode.Parse("""{"app":"web","tier":"frontend"}""")!.AsObject();

        Assert.True(LabelSelector.Parse("app=web,tier").Matches(labels));
        Assert.False(LabelSelector.Parse("app=db").Matches(labels));
        Assert.True(LabelSelector.Parse("!x").Matches((JsonObject?)null));
    }

    [Fact]
    public void Parse_EmptyValue_MatchesEmptyLabel()
    {
        var selector = LabelSelector.Parse("a=");

        Assert.True(selector.Matches(new Dictionary<string, string> { ["a"] = "" }));
        Assert.False(selector.Matches(new Dictionary<string, string> { ["a"] = "b" }));
    }

    [Fact]
    public void ToString_SortsByKeyAndValues()
    {
        Assert.Equal("a in (x,y),b!=c,!d,e", LabelSelector.Parse("e,b!=c, a in (y,x),!d").ToString());
    }

    [Theory]
    [InlineData("a=b c", "found 'c', expected: ',' or 'end of string'")]
    [InlineData("a in b", "unable to parse requirement: found 'b' expected: '('")]
    [InlineData("a in (b", "unable to parse requirement: found '', expected: ',' or ')'")]
    [InlineData("=b", "found '=', expected: !, identifier, or 'end of string'")]
    [InlineData("a,", "found '', expected: identifier after ','")]
    [InlineData("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a=b=c", "found '=', expected: ',' or 'end of string'")]
    [InlineData("!a=b", "found '=', expected: ',' or 'end of string'")]
    public void Parse_SyntaxError_BadRequestWithUpstreamText(string selector, string message)
    {
        var error = Assert.Throws<StatusException>(() => LabelSelector.Parse(selector));

        Assert.Equal(400, error.Code);
        Assert.Equal("BadRequest", error.Reason);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Parse_InvalidKey_RequirementError()
    {
        var error = Assert.Throws<StatusException>(() => LabelSelector.Parse("-a=b"));

        Assert.StartsWith("unable to parse requirement: key: Invalid value: \"-a\": name part must consist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidValue_RequirementError()
    {
        var error = Assert.Throws<StatusException>(() => LabelSelector.Parse("a=-b"));

        Assert.StartsWith("unable to parse requirement: values[0]: Invalid value: \"-b\": a valid label must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromJson_MatchLabelsAndExpressions_AllMustHold()
    {
        var selector = LabelSelector.FromJson(JsonNode.Parse("""
            {"matchLabels":{"app":"web"},"matchExpressions":[
              {"key":"tier","operator":"In","values":["frontend","edge"]},
              {"key":"legacy","operator":"DoesNotExist"},
              {"key":"app","operator":"Exists"},
              {"key":"zone","operator":"NotIn","values":["a"]}]}
            """));

        Assert.True(selector.Matches(Labels));
        Assert.False(selector.Matches(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "backend" }));
    }

    [Fact]
    public void FromJson_NullAndEmpty_NothingAndEverything()
    {
        Assert.False(LabelSelector.FromJson(null).Matches(Labels));
        Assert.True(LabelSelector.FromJson(new JsonObject()).Matches(Labels));
        Assert.True(LabelSelector.FromJson(new JsonObject()).IsEverything);
    }

    [Fact]
    public void FromJson_BadOperator_BadRequest()
    {
        var error = Assert.Throws<StatusException>(() => LabelSelector.FromJson(JsonNode.Parse("""{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}""")));

        Assert.Equal("\"Gt\" is not a valid label selector operator", error.Message);
    }

    [Fact]
    public void FromJson_InWithoutValues_Invalid()
    {
        var error = Assert.Throws<StatusException>(() => LabelSelector.FromJson(JsonNode.Parse("""{"matchExpressions":[{"key":"a","operator":"In"}]}""")));

        Assert.Equal("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty", error.Message);
    }

    [Fact]
    public void FromLabels_ServiceSelector_MatchesSubset()
    {
        var selector = LabelSelector.FromLabels(new Dictionary<string, string> { ["app"] = "web" });

        Assert.True(selector.Matches(Labels));
        Assert.Equal("app=web", selector.ToString());
    }
}
