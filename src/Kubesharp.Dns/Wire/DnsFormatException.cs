namespace Kubesharp.Dns.Wire;

/// <summary>A message that does not follow the wire format (answered with FORMERR when the header was readable).</summary>
public sealed class DnsFormatException(string message) : Exception(message);
