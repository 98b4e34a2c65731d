namespace Kubesharp.Proxy;

/// <summary>One backend of a service port: the address and port traffic is sent to.</summary>
public sealed record ServiceProxyEndpoint(string Address, int Port, bool Ready, bool Serving, bool Terminating);
