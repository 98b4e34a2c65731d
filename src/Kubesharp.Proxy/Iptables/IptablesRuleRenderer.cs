using System.Globalization;
using System.Text;

namespace Kubesharp.Proxy.Iptables;

/// <summary>
/// Renders service ports into rules after kube-proxy's iptables mode: KUBESHARP-SERVICES matches cluster and
/// external IPs, KUBESHARP-SVC-* picks an endpoint with statistic-random rules (after session-affinity
/// recent checks), KUBESHARP-SEP-* DNATs; traffic from outside the pod network is marked and masqueraded.
/// </summary>
public static class IptablesRuleRenderer
{
    public static IptablesRules Render(IReadOnlyList<ServicePortRule> rules, ServiceProxyOptions options, IReadOnlySet<string>? previousNatChains = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(options);
        var mark = $"0x{1 << options.MasqueradeBit:x}";
        var names = options.Chains;
        var chains = new List<string> { names.Services, names.NodePorts, names.Postrouting, names.MarkMasquerade };
        var body = new StringBuilder();
        var filter = new StringBuilder();
        var nodePortRules = new StringBuilder();

        body.Append(CultureInfo.InvariantCulture, $"-A {names.Postrouting} -m mark ! --mark {mark}/{mark} -j RETURN\n");
        body.Append(CultureInfo.InvariantCulture, $"-A {names.Postrouting} -j MARK --xor-mark {mark}\n");
        body.Append(CultureInfo.InvariantCulture, $"-A {names.Postrouting} -m comment --comment \"kubesharp service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
        body.Append(CultureInfo.InvariantCulture, $"-A {names.MarkMasquerade} -j MARK --or-mark {mark}\n");

        foreach (var rule in rules)
        {
            var protocol = rule.Protocol.ToLowerInvariant();
            var comment = $"-m comment --comment \"{rule.Key}\"";
            var usable = rule.UsableEndpoints;
            if (usable.Count == 0)
            {
                // No endpoints: refuse quickly instead of letting connections time out.
                foreach (var ip in rule.ClusterIps.Concat(rule.ExternalIps))
                {
                    filter.Append(CultureInfo.InvariantCulture, $"-A {names.Reject} {comment} -d {ip}/32 -p {protocol} -m {protocol} --dport {rule.Port} -j REJECT\n");
                }

                if (rule.NodePort is { } closed)
                {
                    filter.Append(CultureInfo.InvariantCulture, $"-A {names.Reject} {comment} -m addrtype --dst-type LOCAL -p {protocol} -m {protocol} --dport {closed} -j REJECT\n");
                }

                continue;
            }

            var svc = names.ServiceChain(rule);
            chains.Add(svc);
            foreach (var ip in rule.ClusterIps)
            {
                body.Append(CultureInfo.InvariantCulture, $"-A {names.Services} {comment} -d {ip}/32 -p {protocol} -m {protocol} --dport {rule.Port} -j {svc}\n");
                body.Append(CultureInfo.InvariantCulture, $"-A {svc} {comment} ! -s {options.ClusterCidr} -d {ip}/32 -p {protocol} -m {protocol} --dport {rule.Port} -j {names.MarkMasquerade}\n");
            }

            foreach (var ip in rule.ExternalIps)
            {
                body.Append(CultureInfo.InvariantCulture, $"-A {names.Services} {comment} -d {ip}/32 -p {protocol} -m {protocol} --dport {rule.Port} -j {names.MarkMasquerade}\n");
                body.Append(CultureInfo.InvariantCulture, $"-A {names.Services} {comment} -d {ip}/32 -p {protocol} -m {protocol} --dport {rule.Port} -j {svc}\n");
            }

            if (rule.NodePort is { } nodePort)
            {
                nodePortRules.Append(CultureInfo.InvariantCulture, $"-A {names.NodePorts} {comment} -p {protocol} -m {protocol} --dport {nodePort} -j {names.MarkMasquerade}\n");
                nodePortRules.Append(CultureInfo.InvariantCulture, $"-A {names.NodePorts} {comment} -p {protocol} -m {protocol} --dport {nodePort} -j {svc}\n");
            }

            var endpointChains = usable.Select(e => (Endpoint: e, Chain: names.EndpointChain(rule, e))).ToList();
            if (rule.AffinityTimeoutSeconds is { } timeout)
            {
                foreach (var (_, chain) in endpointChains)
                {
                    body.Append(CultureInfo.InvariantCulture, $"-A {svc} {comment} -m recent --name {chain} --rcheck --seconds {timeout} --reap -j {chain}\n");
                }
            }

            for (var i = 0; i < endpointChains.Count; i++)
            {
                var (endpoint, chain) = endpointChains[i];
                var target = $"{endpoint.Address}:{endpoint.Port}";
                if (i < endpointChains.Count - 1)
                {
                    var probability = (1.0 / (endpointChains.Count - i)).ToString("0.0000000000", CultureInfo.InvariantCulture);
                    body.Append(CultureInfo.InvariantCulture, $"-A {svc} -m comment --comment \"{rule.Key} -> {target}\" -m statistic --mode random --probability {probability} -j {chain}\n");
                }
                else
                {
                    body.Append(CultureInfo.InvariantCulture, $"-A {svc} -m comment --comment \"{rule.Key} -> {target}\" -j {chain}\n");
                }
            }

            foreach (var (endpoint, chain) in endpointChains)
            {
                chains.Add(chain);
                // A pod reaching itself through its Service must be masqueraded, or the reply would bypass conntrack.
                body.Append(CultureInfo.InvariantCulture, $"-A {chain} {comment} -s {endpoint.Address}/32 -j {names.MarkMasquerade}\n");
                var recent = rule.AffinityTimeoutSeconds is null ? string.Empty : $" -m recent --name {chain} --set";
                body.Append(CultureInfo.InvariantCulture, $"-A {chain} {comment} -p {protocol}{recent} -m {protocol} -j DNAT --to-destination {endpoint.Address}:{endpoint.Port}\n");
            }
        }

        body.Append(nodePortRules);
        body.Append(CultureInfo.InvariantCulture, $"-A {names.Services} -m comment --comment \"kubesharp service nodeports\" -m addrtype --dst-type LOCAL -j {names.NodePorts}\n");

        var nat = new StringBuilder("*nat\n");
        var current = new HashSet<string>(chains, StringComparer.Ordinal);
        var stale = (previousNatChains ?? new HashSet<string>()).Where(c => !current.Contains(c)).Order(StringComparer.Ordinal).ToList();
        foreach (var chain in chains.Concat(stale))
        {
            nat.Append(CultureInfo.InvariantCulture, $":{chain} - [0:0]\n");
        }

        nat.Append(body);
        foreach (var chain in stale)
        {
            nat.Append(CultureInfo.InvariantCulture, $"-X {chain}\n");
        }

        nat.Append("COMMIT\n");

        var filterText = new StringBuilder("*filter\n");
        filterText.Append(CultureInfo.InvariantCulture, $":{names.Reject} - [0:0]\n:{names.Forward} - [0:0]\n");
        filterText.Append(filter);
        filterText.Append(CultureInfo.InvariantCulture, $"-A {names.Forward} -m comment --comment \"kubesharp forwarding of marked service traffic\" -m mark --mark {mark}/{mark} -j ACCEPT\n");
        filterText.Append(CultureInfo.InvariantCulture, $"-A {names.Forward} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
        filterText.Append("COMMIT\n");
        return new IptablesRules(nat.ToString(), filterText.ToString(), current);
    }
}
