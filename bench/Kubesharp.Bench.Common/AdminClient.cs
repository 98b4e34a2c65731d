using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.Bench.Common;

/// <summary>HTTP/2 clients that act as a server's admin, from the certificates in its data directory.</summary>
public static class AdminClient
{
    /// <summary>A client with the admin certificate of <paramref name="dataDir"/>, trusting only its CA.</summary>
    public static HttpClient Create(string dataDir, bool multipleConnections, TimeSpan timeout)
    {
        var tls = Path.Combine(dataDir, "server", "tls");
        using var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(tls, "client-admin.crt"), Path.Combine(tls, "client-admin.key"));
        return Create(dataDir, certificate, multipleConnections, timeout);
    }

    /// <summary>A client of an ordinary <paramref name="user"/>: a client certificate issued from the CA of <paramref name="dataDir"/>.</summary>
    public static HttpClient CreateForUser(string dataDir, string user, bool multipleConnections, TimeSpan timeout)
    {
        var tls = Path.Combine(dataDir, "server", "tls");
        using var ca = X509Certificate2.CreateFromPemFile(Path.Combine(tls, "ca.crt"), Path.Combine(tls, "ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={user}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        using var certificate = issued.CopyWithPrivateKey(key);
        return Create(dataDir, certificate, multipleConnections, timeout);
    }

    private static HttpClient Create(string dataDir, X509Certificate2 certificate, bool multipleConnections, TimeSpan timeout)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(dataDir, "server", "tls", "ca.crt")));
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
