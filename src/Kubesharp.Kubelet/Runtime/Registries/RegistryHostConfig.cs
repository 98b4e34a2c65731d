namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>One entry of <c>configs</c>, for a registry or mirror host (<c>host[:port]</c>).</summary>
public sealed record RegistryHostConfig(RegistryAuth? Auth, RegistryTls? Tls);
