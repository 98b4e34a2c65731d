using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Kubelet.Network;

namespace Kubesharp.Kubelet.Tests.Network;

public sealed class PodDnsConfigTests
{
    private static readonly ResolvConf Host = ResolvConf.Parse("# node\nnameserver 192.168.1.1\nnameserver 8.8.8.8\nsearch example.com corp.example.com\noptions edns0 timeout:2\n");
    private static readonly string[] ClusterDns = ["10.43.0.10"];

    private static Pod NewPod(string? policy, bool hostNetwork = false, PodDNSConfig? config = null) => new()
    {
        Metadata = new ObjectMeta { Name = "p", Namespace = "shop" },
        Spec = new PodSpec { DnsPolicy = policy, HostNetwork = hostNetwork, DnsConfig = config },
    };

    [Fact]
    public void Parse_NodeFile_ReadsNameserversSearchesOptions()
    {
        Assert.Equal(["192.168.1.1", "8.8.8.8"], Host.Nameservers);
        Assert.Equal(["example.com", "corp.example.com"], Host.Searches);
        Assert.Equal(["edns0", "timeout:2"], Host.Options);
    }

    [Fact]
    public void For_ClusterFirst_UsesClusterDnsSearchPathsAndNdots()
    {
        var conf = PodDnsConfig.For(NewPod(null), ClusterDns, "cluster.local", Host);

        Assert.Equal(["10.43.0.10"], conf.Nameservers);
        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "example.com", "corp.example.com"], conf.Searches);
        Assert.Equal(["ndots:5"], conf.Options);
        Assert.Equal("search shop.svc.cluster.local svc.cluster.local cluster.local example.com corp.example.com\nnameserver 10.43.0.10\noptions ndots:5\n", conf.Render());
    }

    [Fact]
    public void For_ClusterFirstOnHostNetwork_UsesNodeResolvers()
    {
        var conf = PodDnsConfig.For(NewPod("ClusterFirst", hostNetwork: true), ClusterDns, "cluster.local", Host);

        Assert.Equal(Host.Nameservers, conf.Nameservers);
        Assert.Equal(Host.Searches, conf.Searches);
    }

    [Fact]
    public void For_ClusterFirstWithHostNet_UsesClusterDns()
    {
        var conf = PodDnsConfig.For(NewPod("ClusterFirstWithHostNet", hostNetwork: true), ClusterDns, "cluster.local", Host);

        Assert.Equal(["10.43.0.10"], conf.Nameservers);
        Assert.Equal("shop.svc.cluster.local", conf.Searches[0]);
    }

    [Fact]
    public void For_ClusterFirstWithoutClusterDns_FallsBackToNode()
    {
        var conf = PodDnsConfig.For(NewPod("ClusterFirst"), [], "cluster.local", Host);

        Assert.Equal(Host.Nameservers, conf.Nameservers);
    }

    [Fact]
    public void For_Default_CopiesNodeFile()
    {
        var conf = PodDnsConfig.For(NewPod("Default"), ClusterDns, "cluster.local", Host);

        Assert.Equal(Host.Render(), conf.Render());
        Assert.Equal(["edns0", "timeout:2"], conf.Options);
    }

    [Fact]
    public void For_NoneWithDnsConfig_UsesOnlyDnsConfig()
    {
        var config = new PodDNSConfig
        {
            Nameservers = ["1.2.3.4"],
            Searches = ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
            Options = [new PodDNSConfigOption { Name = "ndots", Value = "2" }, new PodDNSConfigOption { Name = "edns0" }],
        };

        var conf = PodDnsConfig.For(NewPod("None", config: config), ClusterDns, "cluster.local", Host);

        Assert.Equal("search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.2.3.4\noptions ndots:2 edns0\n", conf.Render());
    }

    [Fact]
    public void For_ClusterFirstWithDnsConfig_MergesAndOverridesOptions()
    {
        var config = new PodDNSConfig
        {
            Nameservers = ["10.43.0.10", "1.1.1.1", "9.9.9.9", "8.8.4.4"],
            Searches = ["extra.example"],
            Options = [new PodDNSConfigOption { Name = "ndots", Value = "1" }],
        };

        var conf = PodDnsConfig.For(NewPod("ClusterFirst", config: config), ClusterDns, "cluster.local", Host);

        Assert.Equal(["10.43.0.10", "1.1.1.1", "9.9.9.9"], conf.Nameservers);
        Assert.Equal("extra.example", conf.Searches[^1]);
        Assert.Equal(["ndots:1"], conf.Options);
    }

    [Fact]
    public void For_ManySearches_KeepsUpstreamLimit()
    {
        var config = new PodDNSConfig { Searches = [.. Enumerable.Range(0, 40).Select(i => $"s{i}.example")] };

        var conf = PodDnsConfig.For(NewPod("None", config: config), ClusterDns, "cluster.local", Host);

        Assert.Equal(PodDnsConfig.MaxSearches, conf.Searches.Count);
    }
}
