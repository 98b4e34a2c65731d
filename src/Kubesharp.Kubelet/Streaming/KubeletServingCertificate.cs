using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.Kubelet.Streaming;

/// <summary>The agent endpoint's self-signed serving certificate, kept in DATA/pki and reused across restarts.</summary>
internal static class KubeletServingCertificate
{
    public static X509Certificate2 LoadOrCreate(string dataDir, string nodeName, string nodeIp, TimeProvider time)
    {
        var dir = Path.Combine(dataDir, "pki");
        var certPath = Path.Combine(dir, "kubelet.crt");
        var keyPath = Path.Combine(dir, "kubelet.key");
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            var existing = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            if (existing.NotAfter > time.GetUtcNow().UtcDateTime.AddDays(30))
            {
                return existing;
            }

            existing.Dispose();
        }

        Directory.CreateDirectory(dir);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={nodeName}@kubesharp-kubelet", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(nodeName);
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        if (IPAddress.TryParse(nodeIp, out var ip))
        {
            san.AddIpAddress(ip);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        Volumes.FileModes.Set(keyPath, Convert.ToInt32("600", 8));
        return certificate;
    }
}
