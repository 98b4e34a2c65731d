using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.Storage.Etcd;

/// <summary>Builds the TLS settings for the members from PEM files, as etcd's own client flags name them.</summary>
internal static class EtcdTls
{
    /// <exception cref="StoreUnavailableException">A file is missing or is not a PEM certificate or key.</exception>
    public static SslClientAuthenticationOptions CreateOptions(EtcdStoreOptions options)
    {
        if ((options.CertFile is null) != (options.KeyFile is null))
        {
            throw new StoreUnavailableException("etcd TLS needs both a client certificate file and its key file");
        }

        var ssl = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        try
        {
            if (options.CaFile is { } caFile)
            {
                var authorities = new X509Certificate2Collection();
                authorities.ImportFromPemFile(caFile);
                if (authorities.Count == 0)
                {
                    throw new StoreUnavailableException($"{caFile} holds no PEM certificate");
                }

                // Only these authorities may vouch for a member; the host name is still checked against the certificate.
                var policy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                };
                policy.CustomTrustStore.AddRange(authorities);
                ssl.CertificateChainPolicy = policy;
            }

            if (options.CertFile is { } certFile && options.KeyFile is { } keyFile)
            {
                ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(certFile, keyFile)];
            }
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"cannot load the etcd TLS files: {e.Message}", e);
        }

        return ssl;
    }
}
