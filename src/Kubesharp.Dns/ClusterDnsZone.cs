using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns;

/// <summary>
/// Answers questions about the cluster zone (Kubernetes DNS-based service discovery) from informer caches
/// of Services, EndpointSlices and Pods. A null answer means the name is not the cluster's: forward it.
/// </summary>
public sealed class ClusterDnsZone
{
    private const string ServiceIndex = "dns-service";
    private const string AddressIndex = "dns-address";

    private readonly string zone;
    private readonly uint ttl;
    private readonly Indexer<Service> services;
    private readonly Indexer<EndpointSlice> slices;
    private readonly Indexer<Pod> pods;
    private readonly DnsRecord soa;

    public ClusterDnsZone(ClusterDnsOptions options, Indexer<Service> services, Indexer<EndpointSlice> slices, Indexer<Pod> pods, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(slices);
        ArgumentNullException.ThrowIfNull(pods);
        zone = options.ClusterDomain.Trim('.').ToLowerInvariant();
        ttl = options.Ttl;
        this.services = services;
        this.slices = slices;
        this.pods = pods;
        services.AddIndexer(AddressIndex, s => s.Spec?.ClusterIPs ?? (s.Spec?.ClusterIP is { } ip ? [ip] : []));
        slices.AddIndexer(ServiceIndex, s => s.Metadata?.Labels?.TryGetValue("kubernetes.io/service-name", out var name) == true ? [ObjectKey.Of(s.Metadata.Namespace, name)] : []);
        slices.AddIndexer(AddressIndex, s => (s.Endpoints ?? []).SelectMany(e => e.Addresses ?? []));
        pods.AddIndexer(AddressIndex, p => (p.Status?.PodIPs ?? []).Select(i => i.Ip ?? string.Empty).Append(p.Status?.PodIP ?? string.Empty).Where(i => i.Length > 0).Distinct());
        var serial = (uint)(timeProvider ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        soa = new DnsRecord(zone, DnsType.SOA, ttl, new SoaData($"ns.dns.{zone}", $"hostmaster.{zone}", serial, 7200, 1800, 86400, ttl));
    }

    public string Zone => zone;

    /// <summary>
    /// Changes whenever an answer may have changed: forward names read Services and EndpointSlices, reverse
    /// names (<paramref name="reverse"/>) Pods as well, so Pod churn leaves cached forward answers alone.
    /// </summary>
    internal long Version(bool reverse) =>
        services.Version + slices.Version + (reverse ? pods.Version : 0);

    /// <summary>Whether <paramref name="name"/> is a reverse (PTR) name, answered from Pods as well.</summary>
    internal static bool IsReverse(string name) =>
        name.EndsWith(".in-addr.arpa", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ip6.arpa", StringComparison.OrdinalIgnoreCase);

    /// <summary>Answers <paramref name="question"/> or returns null when the name belongs elsewhere.</summary>
    public DnsAnswer? Answer(DnsQuestion question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var name = question.Name.TrimEnd('.').ToLowerInvariant();
        if (IsReverse(name))
        {
            return Reverse(question, name);
        }

        if (name != zone && !name.EndsWith("." + zone, StringComparison.Ordinal))
        {
            return null;
        }

        var relative = name.Length == zone.Length ? [] : name[..(name.Length - zone.Length - 1)].Split('.');
        var answers = new List<DnsRecord>();
        var additionals = new List<DnsRecord>();
        var exists = Lookup(question, relative, answers, additionals);
        if (answers.Count > 0)
        {
            return new DnsAnswer(DnsResponseCode.NoError, answers, [], additionals);
        }

        return new DnsAnswer(exists ? DnsResponseCode.NoError : DnsResponseCode.NameError, [], [soa], []);
    }

    /// <summary>Fills the answers; returns whether the name exists (for NODATA versus NXDOMAIN).</summary>
    private bool Lookup(DnsQuestion question, string[] labels, List<DnsRecord> answers, List<DnsRecord> additionals)
    {
        var type = question.Type;
        switch (labels)
        {
            case []:
                if (type is DnsType.SOA or DnsType.ANY)
                {
                    answers.Add(soa with { Name = question.Name });
                }

                if (type is DnsType.NS or DnsType.ANY)
                {
                    answers.Add(new DnsRecord(question.Name, DnsType.NS, ttl, new NameData($"ns.dns.{zone}")));
                }

                return true;
            case ["svc"] or ["pod"]:
                return true;
            case [var ns, "svc"]:
                return services.ByIndex(Indexer<Service>.NamespaceIndex, ns).Count > 0;
            case [var name, var ns, "svc"]:
                return ServiceRecords(question, ns, name, answers, additionals);
            case [var port, var proto, var name, var ns, "svc"] when port.StartsWith('_') && proto.StartsWith('_'):
                return PortRecords(question, ns, name, port[1..], proto[1..], answers, additionals);
            case [var endpoint, var name, var ns, "svc"]:
                return EndpointRecords(question, ns, name, endpoint, answers);
            case [var dashed, _, "pod"]:
                var address = ParseDashed(dashed);
                if (address is null)
                {
                    return false;
                }

                AddAddress(question, address, answers);
                return true;
            default:
                return false;
        }
    }

    private bool ServiceRecords(DnsQuestion question, string ns, string name, List<DnsRecord> answers, List<DnsRecord> additionals)
    {
        var service = services.Get(ObjectKey.Of(ns, name));
        if (service?.Spec is not { } spec)
        {
            return false;
        }

        if (spec.Type == "ExternalName")
        {
            if (spec.ExternalName is { Length: > 0 } target)
            {
                answers.Add(new DnsRecord(question.Name, DnsType.CNAME, ttl, new NameData(target.TrimEnd('.'))));
            }

            return true;
        }

        var fqdn = $"{name}.{ns}.svc.{zone}";
        if (question.Type == DnsType.SRV)
        {
            foreach (var port in spec.Ports ?? [])
            {
                if (port.Name is { Length: > 0 })
                {
                    AddSrv(question, service, fqdn, port, answers, additionals);
                }
            }

            return true;
        }

        foreach (var address in ServiceAddresses(service))
        {
            AddAddress(question, address, answers);
        }

        return true;
    }

    private bool PortRecords(DnsQuestion question, string ns, string name, string portName, string protocol, List<DnsRecord> answers, List<DnsRecord> additionals)
    {
        var service = services.Get(ObjectKey.Of(ns, name));
        var port = service?.Spec?.Ports?.FirstOrDefault(p =>
            string.Equals(p.Name, portName, StringComparison.OrdinalIgnoreCase) &&
            string.Equals(p.Protocol ?? "TCP", protocol, StringComparison.OrdinalIgnoreCase));
        if (service is null || port is null || service.Spec?.Type == "ExternalName")
        {
            return false;
        }

        if (question.Type is DnsType.SRV or DnsType.ANY)
        {
            AddSrv(question, service, $"{name}.{ns}.svc.{zone}", port, answers, additionals);
        }

        return true;
    }

    private void AddSrv(DnsQuestion question, Service service, string fqdn, ServicePort port, List<DnsRecord> answers, List<DnsRecord> additionals)
    {
        if (service.Spec?.ClusterIP != "None")
        {
            answers.Add(new DnsRecord(question.Name, DnsType.SRV, ttl, new SrvData(0, 100, (ushort)(port.Port ?? 0), fqdn)));
            foreach (var address in ServiceAddresses(service))
            {
                additionals.Add(AddressRecord(fqdn, address));
            }

            return;
        }

        // Headless: one target per ready endpoint, with the endpoint's own port number.
        foreach (var (slice, endpoint, address) in ReadyEndpoints(service))
        {
            var slicePort = slice.Ports?.FirstOrDefault(p => p.Name == port.Name);
            var target = $"{EndpointLabel(endpoint, address)}.{fqdn}";
            answers.Add(new DnsRecord(question.Name, DnsType.SRV, ttl, new SrvData(0, 100, (ushort)(slicePort?.Port ?? port.Port ?? 0), target)));
            additionals.Add(AddressRecord(target, address));
        }
    }

    private bool EndpointRecords(DnsQuestion question, string ns, string name, string label, List<DnsRecord> answers)
    {
        var service = services.Get(ObjectKey.Of(ns, name));
        if (service is null)
        {
            return false;
        }

        var found = false;
        foreach (var (_, endpoint, address) in ReadyEndpoints(service))
        {
            if (string.Equals(EndpointLabel(endpoint, address), label, StringComparison.OrdinalIgnoreCase))
            {
                found = true;
                AddAddress(question, address, answers);
            }
        }

        return found;
    }

    private IEnumerable<IPAddress> ServiceAddresses(Service service)
    {
        if (service.Spec?.ClusterIP != "None")
        {
            foreach (var ip in service.Spec?.ClusterIPs ?? (service.Spec?.ClusterIP is { } one ? [one] : []))
            {
                if (IPAddress.TryParse(ip, out var address))
                {
                    yield return address;
                }
            }

            yield break;
        }

        var seen = new HashSet<IPAddress>();
        foreach (var (_, _, address) in ReadyEndpoints(service))
        {
            if (seen.Add(address))
            {
                yield return address;
            }
        }
    }

    private IEnumerable<(EndpointSlice Slice, Endpoint Endpoint, IPAddress Address)> ReadyEndpoints(Service service)
    {
        foreach (var slice in slices.ByIndex(ServiceIndex, ObjectKey.Of(service)))
        {
            foreach (var endpoint in slice.Endpoints ?? [])
            {
                // Absent ready means unknown, which consumers treat as ready.
                if (endpoint.Conditions?.Ready == false)
                {
                    continue;
                }

                foreach (var text in endpoint.Addresses ?? [])
                {
                    if (IPAddress.TryParse(text, out var address))
                    {
                        yield return (slice, endpoint, address);
                    }
                }
            }
        }
    }

    private static string EndpointLabel(Endpoint endpoint, IPAddress address) =>
        endpoint.Hostname is { Length: > 0 } hostname ? hostname : Dashed(address);

    private static string Dashed(IPAddress address) =>
        address.ToString().Replace('.', '-').Replace(':', '-');

    private static IPAddress? ParseDashed(string label)
    {
        if (IPAddress.TryParse(label.Replace('-', '.'), out var v4) && v4.AddressFamily == AddressFamily.InterNetwork && label.Count(c => c == '-') == 3)
        {
            return v4;
        }

        return IPAddress.TryParse(label.Replace('-', ':'), out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : null;
    }

    private void AddAddress(DnsQuestion question, IPAddress address, List<DnsRecord> answers)
    {
        var wanted = address.AddressFamily == AddressFamily.InterNetwork ? DnsType.A : DnsType.AAAA;
        if (question.Type == wanted || question.Type == DnsType.ANY)
        {
            answers.Add(AddressRecord(question.Name, address));
        }
    }

    private DnsRecord AddressRecord(string name, IPAddress address) =>
        new(name, address.AddressFamily == AddressFamily.InterNetwork ? DnsType.A : DnsType.AAAA, ttl, new AddressData(address));

    private DnsAnswer? Reverse(DnsQuestion question, string name)
    {
        var address = ParseReverse(name);
        if (address is null)
        {
            return null;
        }

        var text = address.ToString();
        var targets = new List<string>();
        foreach (var service in services.ByIndex(AddressIndex, text))
        {
            targets.Add($"{service.Metadata?.Name}.{service.Metadata?.Namespace}.svc.{zone}");
        }

        if (targets.Count == 0)
        {
            foreach (var slice in slices.ByIndex(AddressIndex, text))
            {
                if (slice.Metadata?.Labels?.TryGetValue("kubernetes.io/service-name", out var serviceName) != true)
                {
                    continue;
                }

                var endpoint = slice.Endpoints?.FirstOrDefault(e => e.Addresses?.Contains(text) == true);
                if (endpoint is not null)
                {
                    targets.Add($"{EndpointLabel(endpoint, address)}.{serviceName}.{slice.Metadata.Namespace}.svc.{zone}");
                }
            }
        }

        if (targets.Count == 0)
        {
            foreach (var pod in pods.ByIndex(AddressIndex, text))
            {
                targets.Add($"{Dashed(address)}.{pod.Metadata?.Namespace}.pod.{zone}");
            }
        }

        if (targets.Count == 0)
        {
            return null;
        }

        if (question.Type is not (DnsType.PTR or DnsType.ANY))
        {
            return new DnsAnswer(DnsResponseCode.NoError, [], [soa], []);
        }

        return new DnsAnswer(DnsResponseCode.NoError, [.. targets.Distinct().Select(t => new DnsRecord(question.Name, DnsType.PTR, ttl, new NameData(t)))], [], []);
    }

    private static IPAddress? ParseReverse(string name)
    {
        if (name.EndsWith(".in-addr.arpa", StringComparison.Ordinal))
        {
            var parts = name[..^".in-addr.arpa".Length].Split('.');
            return parts.Length == 4 && IPAddress.TryParse(string.Join('.', parts.Reverse()), out var v4) ? v4 : null;
        }

        var nibbles = name[..^".ip6.arpa".Length].Split('.');
        if (nibbles.Length != 32 || nibbles.Any(n => n.Length != 1 || !Uri.IsHexDigit(n[0])))
        {
            return null;
        }

        var hex = string.Concat(nibbles.Reverse());
        var bytes = new byte[16];
        for (var i = 0; i < 16; i++)
        {
            bytes[i] = byte.Parse(hex.AsSpan(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return new IPAddress(bytes);
    }
}
