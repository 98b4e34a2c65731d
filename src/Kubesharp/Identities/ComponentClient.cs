using System.Security.Cryptography.X509Certificates;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;

namespace Kubesharp.Identities;

/// <summary>
/// A client for one of the server's own components, under its own identity: a client certificate issued by the
/// cluster CA at start, so the component holds only what its ClusterRole grants (never system:masters). Its requests
/// reach the API server through the in-process transport (<see cref="ApiServerHost.CreateInProcessHandler"/>), with
/// that certificate, unless <see cref="TransportVariable"/> is <c>https</c>: then over loopback HTTPS, for comparison.
/// </summary>
internal static class ComponentClient
{
    public const string TransportVariable = "KUBESHARP_COMPONENT_TRANSPORT";

    public static KubernetesClient Create(ApiServerHost server, string user, string userAgent) =>
        Create(server, user, userAgent, LoopbackHttps);

    public static KubernetesClient Create(ApiServerHost server, string user, string userAgent, bool loopbackHttps)
    {
        ArgumentNullException.ThrowIfNull(server);
        var (certificatePem, keyPem) = ComponentIdentities.Issue(server.Certificates, user, TimeProvider.System);
        return Connect(server, certificatePem, keyPem, userAgent, loopbackHttps);
    }

    /// <summary>
    /// The server's own client under the admin identity of its kubeconfig (system:masters), in process like the
    /// components' (or over loopback HTTPS when <see cref="TransportVariable"/> says so).
    /// </summary>
    public static KubernetesClient Admin(ApiServerHost server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return Connect(server, server.Certificates.AdminCertificatePem, server.Certificates.AdminKeyPem, userAgent: null, LoopbackHttps);
    }

    private static bool LoopbackHttps => string.Equals(Environment.GetEnvironmentVariable(TransportVariable), "https", StringComparison.OrdinalIgnoreCase);

    /// <summary>A client of <paramref name="server"/> with this certificate; the client library's user agent when none is named.</summary>
    private static KubernetesClient Connect(ApiServerHost server, string certificatePem, string keyPem, string? userAgent, bool loopbackHttps)
    {
        var options = new KubernetesClientOptions
        {
            Server = server.Url,
            CertificateAuthorityPem = server.Certificates.CaPem,
            ClientCertificatePem = certificatePem,
            ClientKeyPem = keyPem,
        };
        if (userAgent is not null)
        {
            options = options with { UserAgent = userAgent };
        }

        if (loopbackHttps)
        {
            return new KubernetesClient(options);
        }

        using var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        return new KubernetesClient(options, server.CreateInProcessHandler(certificate));
    }
}
