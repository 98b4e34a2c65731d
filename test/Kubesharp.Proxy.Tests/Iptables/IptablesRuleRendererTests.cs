using Kubesharp.Proxy.Iptables;

namespace Kubesharp.Proxy.Tests.Iptables;

public sealed class IptablesRuleRendererTests
{
    private static readonly ServiceProxyOptions Options = new();

    private static List<ServicePortRule> Model(params object[] objects) =>
        ServiceProxyModel.Build(objects.OfType<Kubesharp.Api.Core.V1.Service>(), objects.OfType<Kubesharp.Api.Discovery.V1.EndpointSlice>());

    [Fact]
    public void Render_ThreeEndpoints_RandomProbabilitiesThirdHalfRest()
    {
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80), ProxyObjects.Slice("web", 8080, "TCP", ("10.42.0.1", true), ("10.42.0.2", true), ("10.42.0.3", true)));

        var nat = IptablesRuleRenderer.Render(model, Options).Nat;

        var svc = IptablesChains.Default.ServiceChain(model[0]);
        Assert.Contains($"-A KUBESHARP-SERVICES -m comment --comment \"default/web:p\" -d 10.43.0.20/32 -p tcp -m tcp --dport 80 -j {svc}\n", nat);
        Assert.Contains("--probability 0.3333333333", nat);
        Assert.Contains("--probability 0.5000000000", nat);
        Assert.Equal(2, nat.Split('\n').Count(l => l.Contains("statistic", StringComparison.Ordinal)));
        Assert.Contains("-j DNAT --to-destination 10.42.0.3:8080", nat);
        Assert.Contains($"-A {svc} -m comment --comment \"default/web:p\" ! -s 10.42.0.0/16 -d 10.43.0.20/32 -p tcp -m tcp --dport 80 -j KUBESHARP-MARK-MASQ", nat);
        Assert.StartsWith("*nat\n", nat, StringComparison.Ordinal);
        Assert.EndsWith("COMMIT\n", nat, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NotReadyEndpoint_Excluded()
    {
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80), ProxyObjects.Slice("web", 8080, "TCP", ("10.42.0.1", true), ("10.42.0.2", false)));

        var nat = IptablesRuleRenderer.Render(model, Options).Nat;

        Assert.DoesNotContain("10.42.0.2", nat);
        Assert.DoesNotContain("statistic", nat);
    }

    [Fact]
    public void Render_NoEndpoints_RejectsInFilter()
    {
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80));

        var rules = IptablesRuleRenderer.Render(model, Options);

        Assert.Contains("-A KUBESHARP-REJECT -m comment --comment \"default/web:p\" -d 10.43.0.20/32 -p tcp -m tcp --dport 80 -j REJECT", rules.Filter);
        Assert.DoesNotContain("KUBESHARP-SVC-", rules.Nat);
    }

    [Fact]
    public void Render_NodePort_MarksAndJumpsFromNodePorts()
    {
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80, type: "NodePort", nodePort: 30080), ProxyObjects.Slice("web", 8080, "TCP", ("10.42.0.1", true)));

        var nat = IptablesRuleRenderer.Render(model, Options).Nat;

        Assert.Contains("-A KUBESHARP-NODEPORTS -m comment --comment \"default/web:p\" -p tcp -m tcp --dport 30080 -j KUBESHARP-MARK-MASQ", nat);
        Assert.Contains($"-A KUBESHARP-NODEPORTS -m comment --comment \"default/web:p\" -p tcp -m tcp --dport 30080 -j {IptablesChains.Default.ServiceChain(model[0])}", nat);
        Assert.Contains("-m addrtype --dst-type LOCAL -j KUBESHARP-NODEPORTS", nat);
    }

    [Fact]
    public void Render_ClientIpAffinity_RecentChecksBeforeRandom()
    {
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80, affinity: "ClientIP"), ProxyObjects.Slice("web", 8080, "TCP", ("10.42.0.1", true), ("10.42.0.2", true)));

        var nat = IptablesRuleRenderer.Render(model, Options).Nat;

        var check = nat.IndexOf("--rcheck --seconds 10800 --reap", StringComparison.Ordinal);
        var random = nat.IndexOf("statistic", StringComparison.Ordinal);
        Assert.InRange(check, 0, random);
        Assert.Contains("-m recent --name KUBESHARP-SEP-", nat);
        Assert.Contains("--set -m tcp -j DNAT", nat);
    }

    [Fact]
    public void Render_UdpService_UsesUdpMatch()
    {
        var model = Model(ProxyObjects.Service("dns", "10.43.0.10", 53, "UDP"), ProxyObjects.Slice("dns", 53, "UDP", ("10.42.0.9", true)));

        var nat = IptablesRuleRenderer.Render(model, Options).Nat;

        Assert.Contains("-p udp -m udp --dport 53", nat);
        Assert.Contains("-p udp -m udp -j DNAT --to-destination 10.42.0.9:53", nat);
    }

    [Fact]
    public void Render_ChainGone_DeclaredAndDeleted()
    {
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80), ProxyObjects.Slice("web", 8080, "TCP", ("10.42.0.1", true)));
        var first = IptablesRuleRenderer.Render(model, Options);

        var second = IptablesRuleRenderer.Render([], Options, first.NatChains);

        var svc = IptablesChains.Default.ServiceChain(model[0]);
        Assert.Contains($":{svc} - [0:0]\n", second.Nat);
        Assert.Contains($"-X {svc}\n", second.Nat);
        Assert.DoesNotContain(svc, second.NatChains);
    }

    [Fact]
    public void ChainNames_FitIptablesLimit()
    {
        var model = Model(ProxyObjects.Service(new string('a', 63), "10.43.0.20", 80), ProxyObjects.Slice(new string('a', 63), 8080, "TCP", ("10.42.0.1", true)));

        Assert.InRange(IptablesChains.Default.ServiceChain(model[0]).Length, 1, 28);
        Assert.InRange(IptablesChains.Default.EndpointChain(model[0], model[0].Endpoints[0]).Length, 1, 28);
    }

    [Fact]
    public void Render_OtherChainPrefix_EveryChainUnderIt()
    {
        var options = new ServiceProxyOptions { ChainPrefix = "KST1A2B3C" };
        var model = Model(ProxyObjects.Service("web", "10.43.0.20", 80, type: "NodePort", nodePort: 30080), ProxyObjects.Slice("web", 8080, "TCP", ("10.42.0.1", true)), ProxyObjects.Service("idle", "10.43.0.21", 80));

        var rules = IptablesRuleRenderer.Render(model, options);

        Assert.DoesNotContain("KUBESHARP", rules.Restore, StringComparison.Ordinal);
        Assert.Contains("-A KST1A2B3C-SERVICES ", rules.Nat, StringComparison.Ordinal);
        Assert.Contains("-A KST1A2B3C-REJECT ", rules.Filter, StringComparison.Ordinal);
        Assert.All(rules.NatChains, c => Assert.InRange(c.Length, 1, 28));
        Assert.All(rules.NatChains, c => Assert.StartsWith("KST1A2B3C-", c, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("lower")]
    [InlineData("TOOLONGPREFIX")]
    public void ChainPrefix_Invalid_Throws(string prefix) =>
        Assert.Throws<ArgumentException>(() => new ServiceProxyOptions { ChainPrefix = prefix });

    [Fact]
    public void HandledBy_ServiceProxyNameLabel_OnlyThatProxy()
    {
        var plain = ProxyObjects.Service("web", "10.43.0.20", 80);
        var named = ProxyObjects.Service("kube-dns", "10.43.0.10", 53);
        named.Metadata!.Labels = new() { [ServiceProxyModel.ServiceProxyNameLabel] = "node-local" };

        Assert.True(ServiceProxyModel.HandledBy(plain, null));
        Assert.False(ServiceProxyModel.HandledBy(named, null));
        Assert.True(ServiceProxyModel.HandledBy(named, "node-local"));
        Assert.False(ServiceProxyModel.HandledBy(plain, "node-local"));
    }

    [Fact]
    public void StaleUdpFlows_EndpointRemoved_ReportsPair()
    {
        var before = Model(ProxyObjects.Service("dns", "10.43.0.10", 53, "UDP"), ProxyObjects.Slice("dns", 53, "UDP", ("10.42.0.8", true), ("10.42.0.9", true)));
        var after = Model(ProxyObjects.Service("dns", "10.43.0.10", 53, "UDP"), ProxyObjects.Slice("dns", 53, "UDP", ("10.42.0.9", true)));

        Assert.Equal([("10.43.0.10", "10.42.0.8")], ServiceProxy.StaleUdpFlows(before, after));
    }
}
