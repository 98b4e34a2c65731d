using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.Bench.Common;

/// <summary>HTTP/2 clients that act as a server's admin, from the certificates in its data directory.</summary>
public static class AdminClient
{
    /// <summary>A client with the admin certificate of <paramref name="dataDir"/>, trusting only its CA.</summary>
    public static HttpClient Create(string dataDir, bool multipleConnections, TimeSpan timeout)
    {
        var tls = Path.Combine(dataDir, "server", "tls");
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(tls, "ca.crt")));
        using var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(tls, "client-admin.crt"), Path.Combine(tls, "client-admin.key"));
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                ClientCertificates = [X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)],
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return presented is X509Certificate2 leaf && chain.Build(leaf);
                },
            },
            EnableMultipleHttp2Connections = multipleConnections,
        };
        return new HttpClient(handler)
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = timeout,
        };
    }
}
