using System.Net;

namespace Kubesharp.Dns.Wire;

/// <summary>A resource record; <see cref="Data"/> is typed by <see cref="Type"/>.</summary>
public sealed record DnsRecord(string Name, DnsType Type, uint Ttl, DnsRecordData Data, ushort Class = DnsMessage.ClassInternet);

/// <summary>The RDATA of a record.</summary>
public abstract record DnsRecordData;

/// <summary>A or AAAA.</summary>
public sealed record AddressData(IPAddress Address) : DnsRecordData;

/// <summary>CNAME, PTR or NS: one domain name.</summary>
public sealed record NameData(string Target) : DnsRecordData;

public sealed record SrvData(ushort Priority, ushort Weight, ushort Port, string Target) : DnsRecordData;

public sealed record SoaData(string PrimaryServer, string Mailbox, uint Serial, uint Refresh, uint Retry, uint Expire, uint Minimum) : DnsRecordData;

/// <summary>Any other type, kept as bytes.</summary>
public sealed record RawData(ReadOnlyMemory<byte> Bytes) : DnsRecordData;
