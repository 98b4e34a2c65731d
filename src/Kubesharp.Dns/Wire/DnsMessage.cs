namespace Kubesharp.Dns.Wire;

/// <summary>A DNS message (RFC 1035 section 4): header flags and the four sections.</summary>
public sealed record DnsMessage
{
    public const ushort ClassInternet = 1;

    /// <summary>The classic UDP payload limit without EDNS(0).</summary>
    public const int ClassicUdpSize = 512;

    public ushort Id { get; init; }

    public bool IsResponse { get; init; }

    public byte Opcode { get; init; }

    public bool Authoritative { get; init; }

    public bool Truncated { get; init; }

    public bool RecursionDesired { get; init; }

    public bool RecursionAvailable { get; init; }

    public DnsResponseCode ResponseCode { get; init; }

    public IReadOnlyList<DnsQuestion> Questions { get; init; } = [];

    public IReadOnlyList<DnsRecord> Answers { get; init; } = [];

    public IReadOnlyList<DnsRecord> Authorities { get; init; } = [];

    /// <summary>Additional records other than the EDNS OPT pseudo-record.</summary>
    public IReadOnlyList<DnsRecord> Additionals { get; init; } = [];

    /// <summary>The requestor's UDP payload size from an OPT record, or null without EDNS(0).</summary>
    public ushort? EdnsUdpSize { get; init; }
}
