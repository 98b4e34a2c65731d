namespace Kubesharp.Client;

/// <summary>How to reach and authenticate to an API server.</summary>
public sealed record KubernetesClientOptions
{
    /// <summary>The API server's base address (https://127.0.0.1:6443).</summary>
    public required Uri Server { get; init; }

    /// <summary>PEM bundle of the certificate authorities trusted for the server; null trusts the system store.</summary>
    public string? CertificateAuthorityPem { get; init; }

    /// <summary>PEM client certificate, used together with <see cref="ClientKeyPem"/>.</summary>
    public string? ClientCertificatePem { get; init; }

    public string? ClientKeyPem { get; init; }

    public string? BearerToken { get; init; }

    /// <summary>Accept any server certificate (development only).</summary>
    public bool InsecureSkipTlsVerify { get; init; }

    public string UserAgent { get; init; } = "kubesharp";

    /// <summary>Timeout of one non-watch request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Upper bound of connections per server (HTTP/1.1), or of HTTP/2 connections once streams run out. Every watch
    /// holds one HTTP/1.1 connection, and the server's components share one client: the controller manager, the
    /// scheduler and the simulated nodes together hold more than 64 watches.
    /// </summary>
    public int MaxConnectionsPerServer { get; init; } = 256;

    /// <summary>Reads a kubeconfig file; <paramref name="context"/> defaults to its current-context.</summary>
    public static KubernetesClientOptions FromKubeconfig(string path, string? context = null) =>
        Kubeconfig.Load(path, context);
}
