using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.Tests.Ownership;

public sealed class ControllerRefClaimTests
{
    private static readonly ObjectMeta Owner = new() { Name = "rs", Uid = "owner" };
    private static readonly LabelSelector Selector = new() { MatchLabels = new() { ["app"] = "web" } };

    private static ObjectMeta Candidate(string app, string? controllerUid) => new()
    {
        Name = "pod",
        Labels = new() { ["app"] = app },
        OwnerReferences = controllerUid is null ? null : [new OwnerReference { Uid = controllerUid, Controller = true, Kind = "ReplicaSet", Name = "x" }],
    };

    [Theory]
    [InlineData("web", null, "Adopt")]
    [InlineData("db", null, "Ignore")]
    [InlineData("web", "owner", "Keep")]
    [InlineData("db", "owner", "Release")]
    [InlineData("web", "other", "Ignore")]
    public void Decide_Cases_AdoptKeepReleaseOrIgnore(string app, string? controller, string expected)
    {
        Assert.Equal(expected, ControllerRefClaim.Decide(Owner, Selector, Candidate(app, controller)).ToString());
    }

    [Fact]
    public void Decide_OwnerBeingDeleted_NeitherAdoptsNorReleases()
    {
        var deleting = Owner with { DeletionTimestamp = Objects.Epoch };

        Assert.Equal(ClaimDecision.Ignore, ControllerRefClaim.Decide(deleting, Selector, Candidate("web", null)));
        Assert.Equal(ClaimDecision.Ignore, ControllerRefClaim.Decide(deleting, Selector, Candidate("db", "owner")));
    }

    [Fact]
    public void Decide_EmptySelector_NeverAdopts()
    {
        Assert.Equal(ClaimDecision.Ignore, ControllerRefClaim.Decide(Owner, new LabelSelector(), Candidate("web", null)));
    }
}
