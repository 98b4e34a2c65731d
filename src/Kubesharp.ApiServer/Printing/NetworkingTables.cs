using System.Text.Json;
using System.Text.Json.Nodes;
using static Kubesharp.ApiServer.Printing.CellFormats;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Tables of networking.k8s.io and discovery.k8s.io.</summary>
internal static class NetworkingTables
{
    public static void AddTo(IDictionary<string, ResourceTable> tables)
    {
        tables["ingresses.networking.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Class", "The ingress class.", o => o.Spec.Text("ingressClassName") ?? None)
            .Column("Hosts", "Hosts the rules match.", IngressHosts)
            .Column("Address", "Addresses of the load balancer.", o => BalancerAddresses(o.Status.Field("loadBalancer")))
            .Column("Ports", "Ports served (443 with TLS).", o => o.Spec.Length("tls") > 0 ? "80, 443" : "80")
            .Age()
            .Build();

        tables["ingressclasses.networking.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Controller", "The controller implementing the class.", o => o.Spec.Text("controller") ?? string.Empty)
            .Column("Parameters", "The resource holding the class's parameters.", IngressClassParameters)
            .Age()
            .Build();

        tables["networkpolicies.networking.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Pod-Selector", "Label selector of the pods the policy applies to.", o => LabelSelector(o.Spec.Field("podSelector")))
            .Age()
            .Build();

        tables["servicecidrs.networking.k8s.io"] = new TableBuilder()
            .Name()
            .Column("CIDRs", "Ranges service IPs are allocated from.", o => string.Join(",", o.Spec.Items("cidrs").Select(c => c.GetString())))
            .Age()
            .Build();

        tables["ipaddresses.networking.k8s.io"] = new TableBuilder()
            .Name()
            .Column("ParentRef", "The object the address is allocated to.", IpAddressParent)
            .Build();

        tables["endpointslices.discovery.k8s.io"] = new TableBuilder()
            .Name()
            .Column("AddressType", "IPv4, IPv6 or FQDN.", o => o.Root.Text("addressType") ?? string.Empty)
            .Column("Ports", "Ports of the endpoints.", o => FirstItems(
                o.Root.Items("ports").Select(p => p.Number("port") is { } port ? Invariant($"{port}") : p.Text("name") ?? "*").ToList(), 3, Unset))
            .Column("Endpoints", "Addresses of the endpoints.", o => FirstItems(
                o.Root.Items("endpoints").SelectMany(e => e.Items("addresses")).Select(a => a.GetString() ?? string.Empty).ToList(), 3, Unset))
            .Age()
            .Build();
    }

    private static JsonNode IngressHosts(PrintedObject o)
    {
        var rules = o.Spec.Items("rules").ToList();
        var hosts = rules.Select(r => r.Text("host")).Where(h => !string.IsNullOrEmpty(h)).Take(3).ToList();
        if (hosts.Count == 0)
        {
            return "*";
        }

        // Upstream counts the rules, not the hosts, past the third.
        return rules.Count > 3 && hosts.Count == 3 ? string.Join(",", hosts) + Invariant($" + {rules.Count - 3} more...") : string.Join(",", hosts!);
    }

    private static string BalancerAddresses(JsonElement balancer) =>
        string.Join(",", balancer.Items("ingress")
            .Select(i => i.Text("ip") is { Length: > 0 } ip ? ip : i.Text("hostname"))
            .OfType<string>().Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    private static JsonNode IngressClassParameters(PrintedObject o)
    {
        var parameters = o.Spec.Field("parameters");
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var kind = parameters.Text("kind") ?? string.Empty;
        if (parameters.Text("apiGroup") is { } group)
        {
            kind += "." + group;
        }

        return kind + "/" + parameters.Text("name");
    }

    private static JsonNode IpAddressParent(PrintedObject o)
    {
        var parent = o.Spec.Field("parentRef");
        if (parent.ValueKind != JsonValueKind.Object)
        {
            return None;
        }

        var group = parent.Text("group") ?? string.Empty;
        var resource = parent.Text("resource") ?? string.Empty;
        var text = (group.Length > 0 ? resource + "." + group : resource).ToLowerInvariant();
        if (parent.Text("namespace") is { Length: > 0 } ns)
        {
            text += "/" + ns;
        }

        return text + "/" + parent.Text("name");
    }
}
