using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Proxy.NetworkPolicies;

namespace Kubesharp.Proxy.Tests.NetworkPolicies;

public sealed class NetworkPolicyRuleRendererTests
{
    private const string Mark = "-j MARK --set-xmark 0x20000/0x20000";
    private static readonly NetworkPolicyOptions Options = new() { NodeName = "n1" };
    private static readonly NetworkPolicyChains Chains = NetworkPolicyChains.Default;

    private static readonly Namespace[] Namespaces =
    [
        new() { Metadata = new ObjectMeta { Name = "a", Labels = new() { ["team"] = "x" } } },
        new() { Metadata = new ObjectMeta { Name = "b", Labels = new() { ["team"] = "y" } } },
    ];

    private static Pod Pod(string ns, string name, string ip, string node = "n1", Dictionary<string, string>? labels = null, params ContainerPort[] ports) => new()
    {
        Metadata = new ObjectMeta { Namespace = ns, Name = name, Labels = labels ?? new() { ["app"] = name } },
        Spec = new PodSpec { NodeName = node, Containers = [new Container { Name = "c", Image = "i", Ports = [.. ports] }] },
        Status = new PodStatus { Phase = "Running", PodIP = ip, PodIPs = [new PodIP { Ip = ip }] },
    };

    private static NetworkPolicy Policy(string ns, string name, LabelSelector? selects, List<NetworkPolicyIngressRule>? ingress = null, List<NetworkPolicyEgressRule>? egress = null, List<string>? types = null) => new()
    {
        Metadata = new ObjectMeta { Namespace = ns, Name = name },
        Spec = new NetworkPolicySpec { PodSelector = selects ?? new LabelSelector(), Ingress = ingress, Egress = egress, PolicyTypes = types },
    };

    private static LabelSelector App(string app) => new() { MatchLabels = new() { ["app"] = app } };

    private static string[] Lines(string text, string chain) => [.. text.Split('\n').Where(l => l.StartsWith($"-A {chain} ", StringComparison.Ordinal))];

    private static NetworkPolicyRules Render(IReadOnlyList<NetworkPolicy> policies, params Pod[] pods) =>
        NetworkPolicyRuleRenderer.Render(policies, pods, Namespaces, Options);

    [Fact]
    public void Render_NoPolicies_OnlyRepliesAccepted()
    {
        var rules = Render([], Pod("a", "web", "10.42.0.2"));

        Assert.Equal(0, rules.IsolatedPods);
        var dispatch = Assert.Single(Lines(rules.Filter, Chains.Dispatch));
        Assert.Contains("--ctstate RELATED,ESTABLISHED -j ACCEPT", dispatch, StringComparison.Ordinal);
        Assert.StartsWith("*filter\n", rules.Filter, StringComparison.Ordinal);
        Assert.EndsWith("COMMIT\n", rules.Filter, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DefaultDenyIngress_IsolatesOnlySelectedLocalPodsAndDrops()
    {
        var rules = Render(
            [Policy("a", "deny", App("web"))],
            Pod("a", "web", "10.42.0.2"), Pod("a", "other", "10.42.0.3"), Pod("a", "remote", "10.42.1.2", node: "n2", labels: new() { ["app"] = "web" }));

        Assert.Equal(1, rules.IsolatedPods);
        var podChain = Chains.PodIngress("a", "web");
        Assert.Contains($"-A {Chains.Dispatch} -m comment --comment \"a/web ingress\" -d 10.42.0.2/32 -j {podChain}\n", rules.Filter, StringComparison.Ordinal);
        Assert.DoesNotContain("10.42.0.3", rules.Filter, StringComparison.Ordinal);
        Assert.DoesNotContain("10.42.1.2", rules.Filter, StringComparison.Ordinal);
        // No rules: the policy chain marks nothing, so the pod chain drops.
        Assert.Empty(Lines(rules.Filter, Chains.Policy("a", "deny", "Ingress")));
        Assert.Equal(
            [$"-A {podChain} -j MARK --set-xmark 0x0/0x20000", $"-A {podChain} -j {Chains.Policy("a", "deny", "Ingress")}", $"-A {podChain} -m mark --mark 0x20000/0x20000 -j RETURN", $"-A {podChain} -m comment --comment \"a/web ingress\" -j DROP"],
            Lines(rules.Filter, podChain));
        Assert.Empty(Lines(rules.Filter, Chains.PodEgress("a", "web")));
    }

    [Fact]
    public void Render_PolicyTypes_DefaultEgressOnlyWithEgressRules()
    {
        Assert.Equal(["Ingress"], NetworkPolicyRuleRenderer.PolicyTypes(Policy("a", "p", null)));
        Assert.Equal(["Ingress", "Egress"], NetworkPolicyRuleRenderer.PolicyTypes(Policy("a", "p", null, egress: [new NetworkPolicyEgressRule()])));
        Assert.Equal(["Egress"], NetworkPolicyRuleRenderer.PolicyTypes(Policy("a", "p", null, types: ["Egress"])));

        var rules = Render([Policy("a", "out", App("web"), types: ["Egress"])], Pod("a", "web", "10.42.0.2"));
        Assert.Contains($"-s 10.42.0.2/32 -j {Chains.PodEgress("a", "web")}", rules.Filter, StringComparison.Ordinal);
        Assert.DoesNotContain(Chains.PodIngress("a", "web"), rules.Filter, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_PodAndNamespaceSelectors_CombinedAsUpstream()
    {
        var pods = new[]
        {
            Pod("a", "web", "10.42.0.2"),
            Pod("a", "client", "10.42.0.3"),
            Pod("b", "client", "10.42.0.4"),
            Pod("b", "other", "10.42.0.5"),
        };
        var policy = Policy("a", "allow", App("web"), ingress:
        [
            // Both selectors in one peer: clients in namespaces of team y only.
            new NetworkPolicyIngressRule { From = [new NetworkPolicyPeer { PodSelector = App("client"), NamespaceSelector = new LabelSelector { MatchLabels = new() { ["team"] = "y" } } }] },
            // A pod selector alone: the policy's own namespace.
            new NetworkPolicyIngressRule { From = [new NetworkPolicyPeer { PodSelector = App("client") }] },
        ]);

        var lines = Lines(Render([policy], pods).Filter, Chains.Policy("a", "allow", "Ingress"));

        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.Contains("-s 10.42.0.4/32 " + Mark, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("-s 10.42.0.3/32 " + Mark, StringComparison.Ordinal));

        // A namespace selector alone: every pod there.
        var all = Policy("a", "ns", App("web"), ingress: [new NetworkPolicyIngressRule { From = [new NetworkPolicyPeer { NamespaceSelector = new LabelSelector { MatchLabels = new() { ["team"] = "y" } } }] }]);
        var nsLines = Lines(Render([all], pods).Filter, Chains.Policy("a", "ns", "Ingress"));
        Assert.Equal(["10.42.0.4", "10.42.0.5"], nsLines.Select(l => l.Split(" -s ")[1].Split('/')[0]).Order());
    }

    [Fact]
    public void Render_EmptyRule_AllowsEverything()
    {
        var rules = Render([Policy("a", "all", App("web"), ingress: [new NetworkPolicyIngressRule()])], Pod("a", "web", "10.42.0.2"));

        var line = Assert.Single(Lines(rules.Filter, Chains.Policy("a", "all", "Ingress")));
        Assert.Equal($"-A {Chains.Policy("a", "all", "Ingress")} -m comment --comment \"a/all ingress\" {Mark}", line);
    }

    [Fact]
    public void Render_IpBlockExcept_SplitsIntoDisjointPrefixes()
    {
        var policy = Policy("a", "out", App("web"), egress:
        [
            new NetworkPolicyEgressRule { To = [new NetworkPolicyPeer { IpBlock = new IPBlock { Cidr = "10.42.0.0/24", Except = ["10.42.0.4/32"] } }] },
        ], types: ["Egress"]);

        var lines = Lines(Render([policy], Pod("a", "web", "10.42.0.2")).Filter, Chains.Policy("a", "out", "Egress"));

        var prefixes = lines.Select(l => l.Split(" -d ")[1].Split(' ')[0]).ToList();
        Assert.Equal(["10.42.0.0/30", "10.42.0.5/32", "10.42.0.6/31", "10.42.0.8/29", "10.42.0.16/28", "10.42.0.32/27", "10.42.0.64/26", "10.42.0.128/25"], prefixes);
    }

    [Fact]
    public void Render_Ports_ProtocolRangeAndNamedPort()
    {
        var web = Pod("a", "web", "10.42.0.2", ports: [new ContainerPort { Name = "http", ContainerPortValue = 8080, Protocol = "TCP" }]);
        var policy = Policy("a", "ports", App("web"), ingress:
        [
            new NetworkPolicyIngressRule
            {
                Ports =
                [
                    new NetworkPolicyPort { Protocol = "UDP", Port = 53 },
                    new NetworkPolicyPort { Protocol = "TCP", Port = 9000, EndPort = 9010 },
                    new NetworkPolicyPort { Protocol = "SCTP" },
                    new NetworkPolicyPort { Port = IntOrString.FromString("http") },
                    new NetworkPolicyPort { Port = IntOrString.FromString("missing") },
                ],
            },
        ]);

        var lines = Lines(Render([policy], web).Filter, Chains.Policy("a", "ports", "Ingress"));

        Assert.Equal(4, lines.Length);
        Assert.Contains(lines, l => l.EndsWith("-p udp -m udp --dport 53 " + Mark, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("-p tcp -m tcp --dport 9000:9010 " + Mark, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("-p sctp " + Mark, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("-d 10.42.0.2/32 -p tcp -m tcp --dport 8080 " + Mark, StringComparison.Ordinal));
    }

    [Fact]
    public void Render_EgressNamedPort_ResolvesAgainstPeerPods()
    {
        var db = Pod("a", "db", "10.42.1.7", node: "n2", ports: [new ContainerPort { Name = "sql", ContainerPortValue = 5432 }]);
        var policy = Policy("a", "out", App("web"), egress:
        [
            new NetworkPolicyEgressRule { To = [new NetworkPolicyPeer { PodSelector = App("db") }], Ports = [new NetworkPolicyPort { Port = IntOrString.FromString("sql") }] },
        ]);

        var line = Assert.Single(Lines(Render([policy], Pod("a", "web", "10.42.0.2"), db).Filter, Chains.Policy("a", "out", "Egress")));

        Assert.EndsWith("-d 10.42.1.7/32 -p tcp -m tcp --dport 5432 " + Mark, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TwoPolicies_UnionInPodChainAndStaleChainsDeleted()
    {
        var web = Pod("a", "web", "10.42.0.2");
        var first = Render([Policy("a", "one", App("web")), Policy("a", "two", new LabelSelector())], web);

        var podChain = Chains.PodIngress("a", "web");
        var jumps = Lines(first.Filter, podChain).Where(l => l.Contains(" -j KUBESHARP-NWP-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, jumps.Count);

        var second = NetworkPolicyRuleRenderer.Render([], [web], Namespaces, Options, first.Chains);
        Assert.Contains($"-X {podChain}\n", second.Filter, StringComparison.Ordinal);
        Assert.Contains($"-X {Chains.Policy("a", "one", "Ingress")}\n", second.Filter, StringComparison.Ordinal);
        Assert.DoesNotContain($"-X {Chains.Dispatch}", second.Filter, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_HostNetworkAndFinishedPods_NeitherIsolatedNorPeers()
    {
        var host = Pod("a", "host", "192.168.1.5");
        host.Spec!.HostNetwork = true;
        var done = Pod("a", "done", "10.42.0.9");
        done.Status!.Phase = "Succeeded";

        var rules = Render([Policy("a", "all", new LabelSelector(), ingress: [new NetworkPolicyIngressRule { From = [new NetworkPolicyPeer { PodSelector = new LabelSelector() }] }])], host, done, Pod("a", "web", "10.42.0.2"));

        Assert.Equal(1, rules.IsolatedPods);
        Assert.DoesNotContain("192.168.1.5", rules.Filter, StringComparison.Ordinal);
        Assert.DoesNotContain("10.42.0.9", rules.Filter, StringComparison.Ordinal);
    }

    [Fact]
    public void Chains_FitIptablesLimitAndBelongToProxyPrefix()
    {
        var chains = new NetworkPolicyChains(new Kubesharp.Proxy.Iptables.IptablesChains("KST12345678"));

        foreach (var name in new[] { chains.Dispatch, chains.Policy("ns", "p", "Ingress"), chains.PodIngress("ns", "pod"), chains.PodEgress("ns", "pod") })
        {
            Assert.True(name.Length <= 28, name);
            Assert.True(chains.Owns(name));
            Assert.True(new Kubesharp.Proxy.Iptables.IptablesChains("KST12345678").Owns(name));
        }

        Assert.False(chains.Owns("KST12345678-FORWARD"));
    }
}
