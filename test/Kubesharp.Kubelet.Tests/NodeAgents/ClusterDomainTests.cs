using Kubesharp.Kubelet;
using Kubesharp.NodeAgents;

namespace Kubesharp.Kubelet.Tests.NodeAgents;

public sealed class ClusterDomainTests
{
    [Theory]
    [InlineData("cluster.local", "cluster.local")]
    [InlineData("Corp.Example.", "corp.example")]
    [InlineData("k8s-1.internal", "k8s-1.internal")]
    public void TryParse_DnsName_Normalised(string text, string expected)
    {
        Assert.True(ClusterDomain.TryParse(text, out var domain));
        Assert.Equal(expected, domain);
    }

    [Theory]
    [InlineData("")]
    [InlineData("cluster..local")]
    [InlineData("-bad.local")]
    [InlineData("under_score.local")]
    [InlineData("bad-.local")]
    public void TryParse_NotADnsName_Rejected(string text) => Assert.False(ClusterDomain.TryParse(text, out _));

    [Fact]
    public void Create_KubeletDomain_ServedByClusterDns()
    {
        var kubelet = new KubeletOptions { DataDir = "/nonexistent", PodCidr = "10.42.0.0/24", ClusterDns = ["10.43.0.10"], ClusterDomain = "corp.example" };

        var options = NodeAgentOptions.Create(kubelet, "10.42.0.0/16", NodeAgentOptions.DefaultDnsInterface);

        Assert.Equal("corp.example", options.Dns!.ClusterDomain);
    }
}
