using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client.Tests;

public sealed class LabelSelectorMatcherTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "front", ["rank"] = "5" };

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web,tier=front", true)]
    [InlineData("app!=web", false)]
    [InlineData("app in (db, web)", true)]
    [InlineData("app notin (web)", false)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("!missing,app=web", true)]
    [InlineData("rank>4", true)]
    [InlineData("rank<4", false)]
    [InlineData("", true)]
    public void Parse_Selector_MatchesAsUpstream(string text, bool expected) =>
        Assert.Equal(expected, LabelSelectorMatcher.Parse(text).Matches(Labels));

    [Fact]
    public void FromLabelSelector_Null_MatchesNothing() =>
        Assert.False(LabelSelectorMatcher.FromLabelSelector(null).Matches(Labels));

    [Fact]
    public void FromLabelSelector_Empty_MatchesEverything() =>
        Assert.True(LabelSelectorMatcher.FromLabelSelector(new LabelSelector()).Matches(Labels));

    [Fact]
    public void FromLabelSelector_LabelsAndExpressions_AllMustMatch()
    {
        var selector = new LabelSelector
        {
            MatchLabels = new() { ["app"] = "web" },
            MatchExpressions = [new LabelSelectorRequirement { Key = "tier", Operator = "In", Values = ["back"] }],
        };

        Assert.False(LabelSelectorMatcher.FromLabelSelector(selector).Matches(Labels));
    }
}
