using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;

namespace Kubesharp.Identities;

/// <summary>
/// A client for one of the server's own components, under its own identity, so the component holds only what its
/// ClusterRole grants (never system:masters). Its requests reach the API server through the in-process transport
/// (<see cref="ApiServerHost.CreateInProcessHandler(string, IReadOnlyList{string})"/>), which knows the component by
/// name and groups, unless <see cref="TransportVariable"/> is <c>https</c>: then over loopback HTTPS, for comparison,
/// with a client certificate the cluster CA issues at start carrying the same name and groups.
/// </summary>
internal static class ComponentClient
{
    public const string TransportVariable = "KUBESHARP_COMPONENT_TRANSPORT";

    public static KubernetesClient Create(ApiServerHost server, string user, string userAgent) =>
        Create(server, user, userAgent, LoopbackHttps);

    public static KubernetesClient Create(ApiServerHost server, string user, string userAgent, bool loopbackHttps)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (!loopbackHttps)
        {
            return InProcess(server, user, ComponentIdentities.GroupsOf(user), userAgent);
        }

        var (certificatePem, keyPem) = ComponentIdentities.Issue(server.Certificates, user, TimeProvider.System);
        return OverHttps(server, certificatePem, keyPem, userAgent);
    }

    /// <summary>
    /// The server's own client under the admin identity of its kubeconfig (system:masters), in process like the
    /// components' (or over loopback HTTPS, with the kubeconfig's certificate, when <see cref="TransportVariable"/> says so).
    /// </summary>
    public static KubernetesClient Admin(ApiServerHost server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return LoopbackHttps
            ? OverHttps(server, server.Certificates.AdminCertificatePem, server.Certificates.AdminKeyPem, userAgent: null)
            : InProcess(server, ClusterCertificates.AdminUser, [ClusterCertificates.MastersGroup], userAgent: null);
    }

    private static bool LoopbackHttps => string.Equals(Environment.GetEnvironmentVariable(TransportVariable), "https", StringComparison.OrdinalIgnoreCase);

    private static KubernetesClient InProcess(ApiServerHost server, string user, IReadOnlyList<string> groups, string? userAgent) =>
        new(Options(server, userAgent), server.CreateInProcessHandler(user, groups));

    private static KubernetesClient OverHttps(ApiServerHost server, string certificatePem, string keyPem, string? userAgent) =>
        new(Options(server, userAgent) with { ClientCertificatePem = certificatePem, ClientKeyPem = keyPem });

    /// <summary>The server's address and CA; the client library's user agent when none is named.</summary>
    private static KubernetesClientOptions Options(ApiServerHost server, string? userAgent)
    {
        var options = new KubernetesClientOptions { Server = server.Url, CertificateAuthorityPem = server.Certificates.CaPem };
        return userAgent is null ? options : options with { UserAgent = userAgent };
    }
}
