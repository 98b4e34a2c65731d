namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>How to trust and present TLS to one registry host (files on the node).</summary>
public sealed record RegistryTls(string? CaFile, string? CertFile, string? KeyFile, bool InsecureSkipVerify);
