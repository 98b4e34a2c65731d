using Kubesharp.Proxy.NetworkPolicies;

namespace Kubesharp.Proxy.Tests.NetworkPolicies;

public sealed class Ipv4BlockTests
{
    [Theory]
    [InlineData("0.0.0.0/0", new[] { "10.0.0.0/8" }, 8)]
    [InlineData("10.0.0.0/8", new[] { "10.1.0.0/16", "10.2.0.0/16" }, 8)]
    [InlineData("10.0.0.0/24", new string[0], 1)]
    [InlineData("10.0.0.0/24", new[] { "10.0.0.0/24" }, 0)]
    public void Except_CoversExactlyTheDifference(string cidr, string[] except, int expectedCount)
    {
        Assert.True(Ipv4Block.TryParse(cidr, out var block));
        var holes = except.Select(e => Ipv4Block.TryParse(e, out var h) ? h : throw new FormatException(e)).ToList();

        var parts = block.Except(holes);

        Assert.Equal(expectedCount, parts.Count);
        // Disjoint and inside the block, and no part touches a hole: the sizes add up to block minus holes.
        var size = parts.Sum(p => Math.Pow(2, 32 - p.PrefixLength));
        var holeSize = holes.Sum(h => Math.Pow(2, 32 - h.PrefixLength));
        Assert.Equal(Math.Pow(2, 32 - block.PrefixLength) - holeSize, size);
        Assert.All(parts, p => Assert.True(block.Contains(p)));
        Assert.All(parts, p => Assert.DoesNotContain(holes, h => h.Contains(p) || p.Contains(h)));
    }

    [Fact]
    public void TryParse_HostBitsMasked_InvalidRejected()
    {
        Assert.True(Ipv4Block.TryParse("10.1.2.3/16", out var block));
        Assert.Equal("10.1.0.0/16", block.ToString());
        Assert.False(Ipv4Block.TryParse("10.1.2.3", out _));
        Assert.False(Ipv4Block.TryParse("fd00::/8", out _));
        Assert.False(Ipv4Block.TryParse("10.0.0.0/33", out _));
    }
}
