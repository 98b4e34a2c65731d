using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.ApiServer.Security;

/// <summary>
/// The request-header (front proxy) credentials of API aggregation, kept beside the cluster CA in server/tls: a CA of
/// their own (front-proxy-ca) and the client certificate (CN front-proxy-client) the server presents to extension API
/// servers, which trust the caller identity in X-Remote-* headers only from a client that CA signed.
/// </summary>
internal sealed class FrontProxyCertificates : IDisposable
{
    /// <summary>The common name extension API servers accept (requestheader-allowed-names).</summary>
    public const string ClientName = "front-proxy-client";

    private FrontProxyCertificates(X509Certificate2 ca, X509Certificate2 client)
    {
        Ca = ca;
        Client = client;
    }

    public X509Certificate2 Ca { get; }

    /// <summary>The client certificate with its private key.</summary>
    public X509Certificate2 Client { get; }

    public string CaPem => Ca.ExportCertificatePem();

    public static FrontProxyCertificates LoadOrCreate(string directory, TimeProvider timeProvider)
    {
        var now = timeProvider.GetUtcNow();
        var ca = ClusterCertificates.LoadOrCreateCa(directory, now, "front-proxy-ca", "kubesharp-front-proxy-ca");
        var client = ClusterCertificates.LoadPair(directory, "front-proxy-client");
        if (client is null || client.NotAfter < now.AddDays(30).UtcDateTime || client.Issuer != ca.Subject)
        {
            client?.Dispose();
            var (certPem, keyPem) = ClusterCertificates.Issue(ca, $"CN={ClientName}", [], serverAuth: false, now, clientAuth: true);
            ClusterCertificates.SavePair(directory, "front-proxy-client", certPem, keyPem);
            client = ClusterCertificates.LoadPair(directory, "front-proxy-client")!;
        }

        // A PEM-loaded key serves TLS client authentication on Linux as it is.
        return new FrontProxyCertificates(ca, client);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Client.Dispose();
    }
}
