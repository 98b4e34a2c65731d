using System.Globalization;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Networking.V1;
using Kubesharp.Client;

namespace Kubesharp.Proxy.NetworkPolicies;

/// <summary>
/// Compiles NetworkPolicies (networking.k8s.io/v1) into filter-table rules. A pod is isolated for a direction only
/// when some policy of that type selects it; its traffic then passes only when one of those policies allows it (the
/// union of rules). The dispatch chain accepts replies (conntrack), sends each isolated pod's egress and ingress to
/// that pod's chain, which clears the allow mark, calls the chains of the policies selecting the pod and drops what
/// none of them marked. Traffic between the node and its pods does not pass FORWARD, so probes always reach pods.
/// </summary>
public static class NetworkPolicyRuleRenderer
{
    public const string Ingress = "Ingress";
    public const string Egress = "Egress";

    /// <summary>The policy's types, defaulted as the API does: Ingress, plus Egress when it has egress rules.</summary>
    public static IReadOnlyList<string> PolicyTypes(NetworkPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Spec?.PolicyTypes is { Count: > 0 } types)
        {
            return types;
        }

        return policy.Spec?.Egress is { Count: > 0 } ? [Ingress, Egress] : [Ingress];
    }

    public static NetworkPolicyRules Render(IReadOnlyList<NetworkPolicy> policies, IReadOnlyList<Pod> pods, IReadOnlyList<Namespace> namespaces, NetworkPolicyOptions options, IReadOnlySet<string>? previousChains = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(namespaces);
        ArgumentNullException.ThrowIfNull(options);
        var names = options.Chains;
        var mark = string.Create(CultureInfo.InvariantCulture, $"0x{1 << options.MarkBit:x}");
        var setMark = $"-j MARK --set-xmark {mark}/{mark}";
        var networked = pods.Where(HasOwnAddress).OrderBy(p => p.Metadata?.Namespace, StringComparer.Ordinal).ThenBy(p => p.Metadata?.Name, StringComparer.Ordinal).ToList();
        var local = networked.Where(p => options.NodeName is null || p.Spec?.NodeName == options.NodeName).ToList();
        var namespaceLabels = namespaces.Where(n => n.Metadata?.Name is not null).ToDictionary(n => n.Metadata!.Name!, n => (IReadOnlyDictionary<string, string>?)n.Metadata!.Labels, StringComparer.Ordinal);
        var ordered = policies.OrderBy(p => p.Metadata?.Namespace, StringComparer.Ordinal).ThenBy(p => p.Metadata?.Name, StringComparer.Ordinal).ToList();

        var chains = new List<string> { names.Dispatch };
        var body = new StringBuilder();
        var dispatch = new StringBuilder();
        dispatch.Append(CultureInfo.InvariantCulture, $"-A {names.Dispatch} -m comment --comment \"replies to allowed connections\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");

        // Per direction: the local pods each policy selects, and per pod the policies isolating it.
        var isolating = new Dictionary<(string Pod, string Direction), List<string>>();
        foreach (var policy in ordered)
        {
            var ns = policy.Metadata?.Namespace ?? "default";
            var name = policy.Metadata?.Name ?? string.Empty;
            var selector = LabelSelectorMatcher.FromLabelSelector(policy.Spec?.PodSelector ?? new Kubesharp.ApiMachinery.Meta.V1.LabelSelector());
            var selected = local.Where(p => p.Metadata?.Namespace == ns && selector.Matches(p.Metadata?.Labels)).ToList();
            if (selected.Count == 0)
            {
                continue;
            }

            foreach (var direction in PolicyTypes(policy).Distinct(StringComparer.Ordinal))
            {
                if (direction is not (Ingress or Egress))
                {
                    continue;
                }

                var chain = names.Policy(ns, name, direction);
                chains.Add(chain);
                var comment = $"-m comment --comment \"{ns}/{name} {direction.ToLowerInvariant()}\"";
                var rules = direction == Ingress
                    ? (policy.Spec?.Ingress ?? []).Select(r => (Peers: r.From, Ports: r.Ports))
                    : (policy.Spec?.Egress ?? []).Select(r => (Peers: r.To, Ports: r.Ports));
                foreach (var (peers, ports) in rules)
                {
                    foreach (var match in RuleMatches(direction, ns, peers, ports, selected, networked, namespaceLabels))
                    {
                        body.Append(CultureInfo.InvariantCulture, $"-A {chain} {comment}{match} {setMark}\n");
                    }
                }

                foreach (var pod in selected)
                {
                    if (!isolating.TryGetValue((Key(pod), direction), out var list))
                    {
                        isolating[(Key(pod), direction)] = list = [];
                    }

                    list.Add(chain);
                }
            }
        }

        var isolated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var direction in new[] { Egress, Ingress })
        {
            foreach (var pod in local)
            {
                if (!isolating.TryGetValue((Key(pod), direction), out var policyChains))
                {
                    continue;
                }

                isolated.Add(Key(pod));
                var ns = pod.Metadata?.Namespace ?? "default";
                var name = pod.Metadata?.Name ?? string.Empty;
                var chain = direction == Ingress ? names.PodIngress(ns, name) : names.PodEgress(ns, name);
                chains.Add(chain);
                var comment = $"-m comment --comment \"{ns}/{name} {direction.ToLowerInvariant()}\"";
                var address = direction == Ingress ? "-d" : "-s";
                foreach (var ip in Addresses(pod))
                {
                    dispatch.Append(CultureInfo.InvariantCulture, $"-A {names.Dispatch} {comment} {address} {ip}/32 -j {chain}\n");
                }

                body.Append(CultureInfo.InvariantCulture, $"-A {chain} -j MARK --set-xmark 0x0/{mark}\n");
                foreach (var policyChain in policyChains)
                {
                    body.Append(CultureInfo.InvariantCulture, $"-A {chain} -j {policyChain}\n");
                    body.Append(CultureInfo.InvariantCulture, $"-A {chain} -m mark --mark {mark}/{mark} -j RETURN\n");
                }

                body.Append(CultureInfo.InvariantCulture, $"-A {chain} {comment} -j DROP\n");
            }
        }

        var text = new StringBuilder("*filter\n");
        var current = new HashSet<string>(chains, StringComparer.Ordinal);
        var stale = (previousChains ?? new HashSet<string>()).Where(c => !current.Contains(c)).Order(StringComparer.Ordinal).ToList();
        foreach (var chain in chains.Concat(stale))
        {
            text.Append(CultureInfo.InvariantCulture, $":{chain} - [0:0]\n");
        }

        text.Append(dispatch).Append(body);
        foreach (var chain in stale)
        {
            text.Append(CultureInfo.InvariantCulture, $"-X {chain}\n");
        }

        text.Append("COMMIT\n");
        return new NetworkPolicyRules(text.ToString(), current, isolated.Count);
    }

    /// <summary>
    /// The iptables matches of one rule: every peer address beside every port. A named port resolves against the
    /// pod receiving the traffic (the selected pod for ingress, the peer pod for egress), so it also fixes that
    /// pod's address.
    /// </summary>
    private static IEnumerable<string> RuleMatches(
        string direction,
        string policyNamespace,
        List<NetworkPolicyPeer>? peers,
        List<NetworkPolicyPort>? ports,
        IReadOnlyList<Pod> selected,
        IReadOnlyList<Pod> networked,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>?> namespaceLabels)
    {
        var peerFlag = direction == Ingress ? "-s" : "-d";
        var anyPeer = peers is not { Count: > 0 };
        var peerBlocks = new List<Ipv4Block>();
        var peerPods = new List<Pod>();
        var peerSet = new HashSet<Pod>(ReferenceEqualityComparer.Instance);
        foreach (var peer in peers ?? [])
        {
            if (peer.IpBlock is { } block)
            {
                if (Ipv4Block.TryParse(block.Cidr, out var cidr))
                {
                    var holes = (block.Except ?? []).Select(e => Ipv4Block.TryParse(e, out var hole) ? hole : (Ipv4Block?)null).OfType<Ipv4Block>();
                    peerBlocks.AddRange(cidr.Except(holes));
                }

                continue;
            }

            if (peer.PodSelector is null && peer.NamespaceSelector is null)
            {
                continue;
            }

            var podSelector = peer.PodSelector is null ? LabelSelectorMatcher.Everything : LabelSelectorMatcher.FromLabelSelector(peer.PodSelector);
            var namespaceSelector = peer.NamespaceSelector is null ? null : LabelSelectorMatcher.FromLabelSelector(peer.NamespaceSelector);
            foreach (var pod in networked)
            {
                var ns = pod.Metadata?.Namespace ?? "default";
                var inNamespace = namespaceSelector is null ? ns == policyNamespace : namespaceSelector.Matches(namespaceLabels.GetValueOrDefault(ns));
                if (inNamespace && podSelector.Matches(pod.Metadata?.Labels) && peerSet.Add(pod))
                {
                    peerPods.Add(pod);
                }
            }
        }

        List<string> peerAddresses = anyPeer ? [string.Empty] : peerBlocks.Select(b => $" {peerFlag} {b}").Concat(peerPods.SelectMany(Addresses).Select(ip => $" {peerFlag} {ip}/32")).Distinct(StringComparer.Ordinal).ToList();
        IEnumerable<NetworkPolicyPort?> portList = ports is { Count: > 0 } ? ports : new NetworkPolicyPort?[] { null };
        foreach (var port in portList)
        {
            var protocol = (port?.Protocol ?? "TCP").ToLowerInvariant();
            if (port?.Port is { IsString: true } named)
            {
                // Named: each receiving pod that declares the port, at its own number.
                var receivers = direction == Ingress ? selected
                    : anyPeer ? networked
                    : networked.Where(p => peerSet.Contains(p) || Addresses(p).Any(ip => peerBlocks.Any(b => b.Contains(Ipv4Block.ToUInt32(System.Net.IPAddress.Parse(ip)))))).ToList();
                foreach (var pod in receivers)
                {
                    if (ResolvePort(pod, named.StringValue, port.Protocol ?? "TCP") is not { } resolved)
                    {
                        continue;
                    }

                    foreach (var ip in Addresses(pod))
                    {
                        var portMatch = $" -p {protocol} -m {protocol} --dport {resolved}";
                        if (direction == Ingress)
                        {
                            foreach (var peer in peerAddresses)
                            {
                                yield return $"{peer} -d {ip}/32{portMatch}";
                            }
                        }
                        else
                        {
                            yield return $" -d {ip}/32{portMatch}";
                        }
                    }
                }

                continue;
            }

            var match = port is null ? string.Empty
                : port.Port is { } number ? string.Create(CultureInfo.InvariantCulture, $" -p {protocol} -m {protocol} --dport {number.IntValue}{(port.EndPort is { } end && end > number.IntValue ? $":{end}" : string.Empty)}")
                : $" -p {protocol}";
            foreach (var peer in peerAddresses)
            {
                yield return peer + match;
            }
        }
    }

    private static string Key(Pod pod) => $"{pod.Metadata?.Namespace}/{pod.Metadata?.Name}";

    private static int? ResolvePort(Pod pod, string name, string protocol)
    {
        foreach (var container in pod.Spec?.Containers ?? [])
        {
            foreach (var port in container.Ports ?? [])
            {
                if (port.Name == name && (port.Protocol ?? "TCP") == protocol && port.ContainerPortValue is { } number)
                {
                    return number;
                }
            }
        }

        return null;
    }

    /// <summary>A pod on the pod network with an address that is its own (not the node's, not finished).</summary>
    private static bool HasOwnAddress(Pod pod) =>
        pod.Spec?.HostNetwork != true && pod.Status?.Phase is not ("Succeeded" or "Failed") && Addresses(pod).Any();

    private static IEnumerable<string> Addresses(Pod pod)
    {
        IEnumerable<string> ips = pod.Status?.PodIPs?.Select(i => i.Ip).OfType<string>().ToList() is { Count: > 0 } list ? list
            : pod.Status?.PodIP is { } single ? new[] { single } : Array.Empty<string>();
        return ips.Where(ip => System.Net.IPAddress.TryParse(ip, out var parsed) && parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
    }
}
