namespace Kubesharp.Storage.Etcd;

/// <summary>Settings of the etcd-backed store.</summary>
public sealed class EtcdStoreOptions
{
    /// <summary>
    /// Member addresses as HOST:PORT (or http://HOST:PORT, https://HOST:PORT); the store uses the first
    /// that answers and moves on when it stops answering. Bare addresses use TLS when <see cref="UseTls"/> is set.
    /// </summary>
    public required IReadOnlyList<string> Endpoints { get; init; }

    /// <summary>How long one request may take before the store reports the backend unavailable.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Speak TLS to members given without a scheme.</summary>
    public bool UseTls { get; init; }

    /// <summary>PEM file of the certificate authorities that sign the members' certificates; null trusts the system's roots.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM file of the client certificate presented to the members (with <see cref="KeyFile"/>).</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM file of the client certificate's private key.</summary>
    public string? KeyFile { get; init; }
}
