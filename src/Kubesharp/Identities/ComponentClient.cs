using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;

namespace Kubesharp.Identities;

/// <summary>
/// A client for one of the server's own components, under its own identity: a client certificate issued by the
/// cluster CA at start, so the component holds only what its ClusterRole grants (never system:masters).
/// </summary>
internal static class ComponentClient
{
    public static KubernetesClient Create(ApiServerHost server, string user, string userAgent)
    {
        ArgumentNullException.ThrowIfNull(server);
        var (certificatePem, keyPem) = ComponentIdentities.Issue(server.Certificates, user, TimeProvider.System);
        return new KubernetesClient(new KubernetesClientOptions
        {
            Server = server.Url,
            CertificateAuthorityPem = server.Certificates.CaPem,
            ClientCertificatePem = certificatePem,
            ClientKeyPem = keyPem,
            UserAgent = userAgent,
        });
    }
}
