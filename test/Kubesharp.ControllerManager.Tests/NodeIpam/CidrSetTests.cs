using Kubesharp.ControllerManager.NodeIpam;

namespace Kubesharp.ControllerManager.Tests.NodeIpam;

public sealed class CidrSetTests
{
    [Fact]
    public void Allocate_ClusterSlash22NodeSlash24_GivesFourSlicesThenNothing()
    {
        var set = CidrSet.Create("10.99.0.0/22", 24);

        var slices = new[] { set.Allocate(), set.Allocate(), set.Allocate(), set.Allocate() };

        Assert.Equal(new string?[] { "10.99.0.0/24", "10.99.1.0/24", "10.99.2.0/24", "10.99.3.0/24" }, slices);
        Assert.Null(set.Allocate());
        Assert.Equal(4, set.Allocated);
    }

    [Fact]
    public void Allocate_AfterOccupyAndRelease_SkipsTakenAndReusesFreed()
    {
        var set = CidrSet.Create("10.42.0.0/16", 24);
        Assert.True(set.Occupy("10.42.0.0/24"));
        Assert.True(set.Occupy("10.42.1.0/24"));

        Assert.Equal("10.42.2.0/24", set.Allocate());
        Assert.True(set.Release("10.42.0.0/24"));
        Assert.Equal(256, set.Capacity);
        Assert.Equal(2, set.Allocated);
    }

    [Theory]
    [InlineData("10.43.0.0/24")]
    [InlineData("10.42.0.0/25")]
    [InlineData("not-a-cidr")]
    public void Occupy_RangeNotASliceOfTheClusterCidr_IsRefused(string cidr) =>
        Assert.False(CidrSet.Create("10.42.0.0/16", 24).Occupy(cidr));

    [Theory]
    [InlineData("10.42.0.0/16", 15)]
    [InlineData("10.42.0.0/16", 31)]
    [InlineData("10.0.0.0/8", 25)]
    [InlineData("fd00::/48", 64)]
    public void Create_BadMaskOrCidr_Throws(string cidr, int mask) =>
        Assert.Throws<FormatException>(() => CidrSet.Create(cidr, mask));
}
