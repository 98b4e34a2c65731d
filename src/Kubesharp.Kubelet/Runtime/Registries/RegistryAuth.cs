namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>Credentials for one registry host: user and password, a base64 <c>user:password</c>, or an identity token.</summary>
public sealed record RegistryAuth(string? Username, string? Password, string? Auth, string? IdentityToken);
