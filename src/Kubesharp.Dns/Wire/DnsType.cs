namespace Kubesharp.Dns.Wire;

/// <summary>Resource record types (RFC 1035, 3596, 2782, 6891) the server reads or writes.</summary>
public enum DnsType : ushort
{
    A = 1,
    NS = 2,
    CNAME = 5,
    SOA = 6,
    PTR = 12,
    TXT = 16,
    AAAA = 28,
    SRV = 33,
    OPT = 41,
    ANY = 255,
}
