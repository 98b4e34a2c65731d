using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.ApiServer.Security;

/// <summary>
/// The cluster CA, the API server's serving certificate and the admin client certificate, kept as PEM files
/// under DATA/server/tls and reused on restart. The serving certificate is re-issued when its names change.
/// </summary>
public sealed class ClusterCertificates : IDisposable
{
    public const string AdminUser = "kubesharp-admin";
    public const string MastersGroup = "system:masters";

    private ClusterCertificates(X509Certificate2 ca, X509Certificate2 serving, string adminCertPem, string adminKeyPem, string directory)
    {
        Ca = ca;
        Serving = serving;
        AdminCertificatePem = adminCertPem;
        AdminKeyPem = adminKeyPem;
        Directory = directory;
    }

    /// <summary>The CA with its private key (signs serving and client certificates).</summary>
    public X509Certificate2 Ca { get; }

    public X509Certificate2 Serving { get; }

    public string CaPem => Ca.ExportCertificatePem();

    /// <summary>The CA's private key (PEM), for the controller manager's certificate signer.</summary>
    public string CaKeyPem => File.ReadAllText(Path.Combine(Directory, "ca.key"));

    public string AdminCertificatePem { get; }

    public string AdminKeyPem { get; }

    public string Directory { get; }

    /// <param name="extraNames">More names the serving certificate holds: the advertised address and --tls-san values.</param>
    public static ClusterCertificates LoadOrCreate(string dataDir, IPAddress bindAddress, TimeProvider timeProvider, IPAddress? kubernetesServiceIp = null, IReadOnlyList<string>? extraNames = null)
    {
        var dir = Path.Combine(dataDir, "server", "tls");
        System.IO.Directory.CreateDirectory(dir);
        var now = timeProvider.GetUtcNow();

        var ca = LoadOrCreateCa(dir, now);

        var names = ServingNames(bindAddress, kubernetesServiceIp ?? IPAddress.Parse(Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.KubernetesServiceIp), extraNames ?? []);
        var sansFile = Path.Combine(dir, "serving.names");
        var serving = LoadPair(dir, "serving");
        if (serving is null || !File.Exists(sansFile) || File.ReadAllText(sansFile) != string.Join('\n', names) || serving.NotAfter < now.AddDays(30).UtcDateTime)
        {
            var (certPem, keyPem) = Issue(ca, "CN=kube-apiserver", names, serverAuth: true, now);
            SavePair(dir, "serving", certPem, keyPem);
            File.WriteAllText(sansFile, string.Join('\n', names));
            serving = LoadPair(dir, "serving")!;
        }

        var adminCert = Path.Combine(dir, "client-admin.crt");
        var adminKey = Path.Combine(dir, "client-admin.key");
        if (!File.Exists(adminCert) || !File.Exists(adminKey))
        {
            var (certPem, keyPem) = Issue(ca, $"CN={AdminUser},O={MastersGroup}", [], serverAuth: false, now);
            SavePair(dir, "client-admin", certPem, keyPem);
        }

        return new ClusterCertificates(ca, serving, File.ReadAllText(adminCert), File.ReadAllText(adminKey), dir);
    }

    /// <summary>
    /// Issues a certificate signed by the cluster CA of <paramref name="dataDir"/> (created when missing) into
    /// <paramref name="certFile"/> and <paramref name="keyFile"/>: for what runs beside the API server and trusts the
    /// same CA, such as the server's etcd member (serving and peer certificates carry both usages).
    /// </summary>
    public static void IssueFromClusterCa(string dataDir, string subject, IReadOnlyList<string> names, bool serverAuth, bool clientAuth, string certFile, string keyFile, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        var dir = Path.Combine(dataDir, "server", "tls");
        System.IO.Directory.CreateDirectory(dir);
        var now = timeProvider.GetUtcNow();
        using var ca = LoadOrCreateCa(dir, now);
        var (certPem, keyPem) = Issue(ca, subject, names, serverAuth, now, clientAuth: clientAuth || !serverAuth);
        if (Path.GetDirectoryName(Path.GetFullPath(certFile)) is { } certDir)
        {
            System.IO.Directory.CreateDirectory(certDir);
        }

        File.WriteAllText(certFile, certPem);
        File.WriteAllText(keyFile, keyPem);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Loads the CA <paramref name="name"/>.crt/.key of <paramref name="dir"/>, creating a self-signed one named <paramref name="commonName"/>@time when missing.</summary>
    internal static X509Certificate2 LoadOrCreateCa(string dir, DateTimeOffset now, string name = "ca", string commonName = "kubesharp-ca")
    {
        if (LoadPair(dir, name) is { } existing)
        {
            return existing;
        }

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}@{now.ToUnixTimeSeconds()}", caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var ca = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        SavePair(dir, name, ca.ExportCertificatePem(), caKey.ExportPkcs8PrivateKeyPem());
        return ca;
    }

    /// <summary>Issues a client certificate for <paramref name="user"/> in <paramref name="groups"/>, as PEM.</summary>
    public (string CertificatePem, string KeyPem) IssueClientCertificate(string user, IReadOnlyList<string> groups, TimeProvider timeProvider)
    {
        var subject = new X500DistinguishedNameBuilder();
        foreach (var group in groups)
        {
            subject.AddOrganizationName(group);
        }

        subject.AddCommonName(user);
        return Issue(Ca, subject.Build().Name, [], serverAuth: false, timeProvider.GetUtcNow());
    }

    private static List<string> ServingNames(IPAddress bindAddress, IPAddress kubernetesServiceIp, IReadOnlyList<string> extraNames)
    {
        var names = new List<string> { "127.0.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", kubernetesServiceIp.ToString() };
        if (!bindAddress.Equals(IPAddress.Any) && !bindAddress.Equals(IPAddress.IPv6Any))
        {
            names.Add(bindAddress.ToString());
        }

        names.Add(Dns.GetHostName());
        names.AddRange(extraNames.Where(n => n.Length > 0));
        return names.Distinct(StringComparer.Ordinal).ToList();
    }

    internal static (string CertificatePem, string KeyPem) Issue(X509Certificate2 ca, string subject, IReadOnlyList<string> names, bool serverAuth, DateTimeOffset now, bool clientAuth = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usage = new OidCollection { new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") };
        if (serverAuth && clientAuth)
        {
            usage.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usage, false));
        if (names.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name, out var ip))
                {
                    san.AddIpAddress(ip);
                }
                else
                {
                    san.AddDnsName(name);
                }
            }

            request.CertificateExtensions.Add(san.Build());
        }

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        // Never past the CA's own expiry: a certificate issued after the CA was made would otherwise outlive it.
        var notAfter = now.AddYears(serverAuth ? 1 : 10);
        if (notAfter > ca.NotAfter.ToUniversalTime())
        {
            notAfter = ca.NotAfter.ToUniversalTime();
        }

        using var issued = request.Create(ca, now.AddMinutes(-5), notAfter, serial);
        return (issued.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    internal static X509Certificate2? LoadPair(string dir, string name)
    {
        var cert = Path.Combine(dir, name + ".crt");
        var key = Path.Combine(dir, name + ".key");
        if (!File.Exists(cert) || !File.Exists(key))
        {
            return null;
        }

        return X509Certificate2.CreateFromPemFile(cert, key);
    }

    internal static void SavePair(string dir, string name, string certPem, string keyPem)
    {
        File.WriteAllText(Path.Combine(dir, name + ".crt"), certPem);
        var keyPath = Path.Combine(dir, name + ".key");
        File.WriteAllText(keyPath, keyPem);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Dispose()
    {
        Ca.Dispose();
        Serving.Dispose();
    }
}
