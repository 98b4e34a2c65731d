namespace Kubesharp.Dns.Wire;

/// <summary>A question: a name (without the trailing dot), a type and a class (1 = IN).</summary>
public sealed record DnsQuestion(string Name, DnsType Type, ushort Class = DnsMessage.ClassInternet);
