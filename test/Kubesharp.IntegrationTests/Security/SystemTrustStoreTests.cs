using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Security;

namespace Kubesharp.IntegrationTests.Security;

/// <summary>
/// The server reads each system certificate once: the bundle, plus only what the certificate directory adds to it. A
/// directory holding anything .NET could read otherwise is left as it is.
/// </summary>
public sealed class SystemTrustStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ks-truststore-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TryFindAdditions_OneFileAndOneLinkPerCertificateAndTheBundle_None()
    {
        var (bundle, directory) = Layout(3);
        var pems = Pems(bundle);
        for (var i = 0; i < pems.Count; i++)
        {
            File.WriteAllText(Path.Combine(directory, $"ca-{i}.pem"), pems[i]);
            File.CreateSymbolicLink(Path.Combine(directory, $"{i:x8}.0"), Path.Combine(directory, $"ca-{i}.pem"));
        }

        File.Copy(bundle, Path.Combine(directory, "ca-certificates.crt"));
        // Reflowed base64 is the same certificate.
        File.WriteAllText(Path.Combine(directory, "reflowed.pem"), pems[0].Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.True(SystemTrustStore.TryFindAdditions(directory, bundle, out var additions));
        Assert.Empty(additions);
    }

    [Fact]
    public void TryFindAdditions_CertificatesTheBundleLacks_EachOnceAsTheSameCertificate()
    {
        var (bundle, directory) = Layout(2);
        var local = NewCertificatePem("CN=local-ca");
        File.WriteAllText(Path.Combine(directory, "local.pem"), local);
        File.CreateSymbolicLink(Path.Combine(directory, "0000abcd.0"), Path.Combine(directory, "local.pem"));
        File.WriteAllText(Path.Combine(directory, "ca-0.pem"), Pems(bundle)[0]);

        Assert.True(SystemTrustStore.TryFindAdditions(directory, bundle, out var additions));
        var addition = Assert.Single(additions);
        using var expected = X509Certificate2.CreateFromPem(local);
        using var found = X509Certificate2.CreateFromPem(addition);
        Assert.Equal(expected.RawData, found.RawData);
    }

    [Fact]
    public void TryFindAdditions_ADerFile_False()
    {
        var (bundle, directory) = Layout(1);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=der-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(Path.Combine(directory, "local.der"), certificate.RawData);

        Assert.False(SystemTrustStore.TryFindAdditions(directory, bundle, out _));
    }

    [Fact]
    public void TryFindAdditions_AnotherKindOfPemBlock_False()
    {
        var (bundle, directory) = Layout(1);
        File.WriteAllText(Path.Combine(directory, "list.crl"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");

        Assert.False(SystemTrustStore.TryFindAdditions(directory, bundle, out _));
    }

    [Fact]
    public void TryFindAdditions_TrustedCertificateBlocksAndEmptyFiles_PassedOver()
    {
        var (bundle, directory) = Layout(1);
        File.WriteAllText(Path.Combine(directory, "aux.pem"), "-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n");
        File.WriteAllText(Path.Combine(directory, "empty.pem"), "\n");

        Assert.True(SystemTrustStore.TryFindAdditions(directory, bundle, out var additions));
        Assert.Empty(additions);
    }

    [Fact]
    public void TryFindAdditions_ThisMachinesCertificates_FewerThanTheBundle()
    {
        // Debian's ca-certificates keeps the directory and the bundle in step (other packages may add a certificate or
        // two to the directory alone): the case the server's start relies on.
        Assert.True(File.Exists("/etc/ssl/certs/ca-certificates.crt"), "the ca-certificates package is not installed");

        Assert.True(SystemTrustStore.TryFindAdditions("/etc/ssl/certs", "/etc/ssl/certs/ca-certificates.crt", out var additions));
        Assert.True(additions.Count < 10, $"{additions.Count} certificates in the directory alone");
    }

    private (string Bundle, string Directory) Layout(int certificates)
    {
        var bundle = Path.Combine(_root, "bundle.crt");
        File.WriteAllText(bundle, string.Concat(Enumerable.Range(0, certificates).Select(i => NewCertificatePem($"CN=ca-{i}"))));
        var directory = Directory.CreateDirectory(Path.Combine(_root, "certs")).FullName;
        return (bundle, directory);
    }

    private static List<string> Pems(string bundle)
    {
        const string End = "-----END CERTIFICATE-----";
        var text = File.ReadAllText(bundle);
        return [.. text.Split(End, StringSplitOptions.RemoveEmptyEntries).Where(p => p.Trim().Length > 0).Select(p => p.TrimStart() + End + "\n")];
    }

    private static string NewCertificatePem(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem() + "\n";
    }
}
