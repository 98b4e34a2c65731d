using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns;

/// <summary>The cluster zone's answer to one question (NXDOMAIN and NODATA carry the SOA in authority).</summary>
public sealed record DnsAnswer(DnsResponseCode ResponseCode, IReadOnlyList<DnsRecord> Answers, IReadOnlyList<DnsRecord> Authorities, IReadOnlyList<DnsRecord> Additionals);
