using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api.Certificates.V1;
using Kubesharp.ApiMachinery.Certificates;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// Issues certificates from the cluster CA for the built-in signers, as upstream's csrsigning controller: the subject
/// and alternative names of the request, key usages from <c>spec.usages</c>, valid from five minutes ago for
/// <c>spec.expirationSeconds</c> capped by the cluster signing duration and by the CA's own expiry.
/// </summary>
internal sealed class CertificateSigner : IDisposable
{
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    private readonly X509Certificate2 ca;
    private readonly AsymmetricAlgorithm caKey;
    private readonly X509SignatureGenerator caSignature;
    private readonly TimeSpan duration;

    public CertificateSigner(string caCertificatePem, string caKeyPem, TimeSpan duration)
    {
        ca = X509Certificate2.CreateFromPem(caCertificatePem, caKeyPem);
        // Signed with the CA's own key whatever the request's key is (an RSA request under an ECDSA CA, or the reverse).
        if (ca.GetECDsaPrivateKey() is { } ecdsa)
        {
            caKey = ecdsa;
            caSignature = X509SignatureGenerator.CreateForECDsa(ecdsa);
        }
        else
        {
            var rsa = ca.GetRSAPrivateKey() ?? throw new CryptographicException("the cluster CA's key is neither ECDSA nor RSA");
            caKey = rsa;
            caSignature = X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1);
        }

        this.duration = duration;
    }

    /// <summary>The signers this controller issues for.</summary>
    public static bool Handles(string? signerName) =>
        signerName is CertificateSigners.KubeApiServerClient or CertificateSigners.KubeApiServerClientKubelet or CertificateSigners.KubeletServing;

    /// <summary>The certificate (PEM) for an approved request, or why the signer refuses it.</summary>
    public (string? CertificatePem, string? Failure) Sign(CertificateSigningRequestSpec spec, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ParsedCertificateRequest parsed;
        try
        {
            parsed = ParsedCertificateRequest.Parse(spec.Request ?? []);
        }
        catch (CryptographicException e)
        {
            return (null, "unable to parse csr: " + e.Message);
        }

        var usages = spec.Usages ?? [];
        var problem = spec.SignerName switch
        {
            CertificateSigners.KubeApiServerClientKubelet => parsed.KubeletClientProblem(usages),
            CertificateSigners.KubeletServing => parsed.KubeletServingProblem(usages),
            CertificateSigners.KubeApiServerClient => ParsedCertificateRequest.ApiServerClientProblem(usages),
            _ => $"unsupported signer {spec.SignerName}",
        };
        if (problem is not null)
        {
            return (null, problem);
        }

        var lifetime = duration;
        if (spec.ExpirationSeconds is { } seconds && TimeSpan.FromSeconds(Math.Max(seconds, CertificateSigners.MinExpirationSeconds)) < lifetime)
        {
            lifetime = TimeSpan.FromSeconds(Math.Max(seconds, CertificateSigners.MinExpirationSeconds));
        }

        var notAfter = now + lifetime;
        var caNotAfter = new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        if (notAfter > caNotAfter)
        {
            notAfter = caNotAfter;
        }

        var request = new CertificateRequest(parsed.Request.SubjectName, parsed.Request.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        if (KeyUsages(usages) is var keyUsage and not X509KeyUsageFlags.None)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, true));
        }

        var extended = ExtendedKeyUsages(usages);
        if (extended.Count > 0)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(extended, false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (parsed.SubjectAlternativeNames is { } names)
        {
            request.CertificateExtensions.Add(new X509Extension(names.Oid!, names.RawData, names.Critical));
        }

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        using var issued = request.Create(ca.SubjectName, caSignature, now - Backdate, notAfter, serial);
        return (issued.ExportCertificatePem() + "\n", null);
    }

    private static X509KeyUsageFlags KeyUsages(IEnumerable<string> usages)
    {
        var flags = X509KeyUsageFlags.None;
        foreach (var usage in usages)
        {
            flags |= usage switch
            {
                "signing" or CertificateSigners.DigitalSignature => X509KeyUsageFlags.DigitalSignature,
                "content commitment" => X509KeyUsageFlags.NonRepudiation,
                CertificateSigners.KeyEncipherment => X509KeyUsageFlags.KeyEncipherment,
                "key agreement" => X509KeyUsageFlags.KeyAgreement,
                "data encipherment" => X509KeyUsageFlags.DataEncipherment,
                "cert sign" => X509KeyUsageFlags.KeyCertSign,
                "crl sign" => X509KeyUsageFlags.CrlSign,
                "encipher only" => X509KeyUsageFlags.EncipherOnly,
                "decipher only" => X509KeyUsageFlags.DecipherOnly,
                _ => X509KeyUsageFlags.None,
            };
        }

        return flags;
    }

    private static OidCollection ExtendedKeyUsages(IEnumerable<string> usages)
    {
        var oids = new OidCollection();
        foreach (var usage in usages)
        {
            var oid = usage switch
            {
                "any" => "2.5.29.37.0",
                CertificateSigners.ServerAuth => "1.3.6.1.5.5.7.3.1",
                CertificateSigners.ClientAuth => "1.3.6.1.5.5.7.3.2",
                "code signing" => "1.3.6.1.5.5.7.3.3",
                "email protection" or "s/mime" => "1.3.6.1.5.5.7.3.4",
                "ipsec end system" => "1.3.6.1.5.5.7.3.5",
                "ipsec tunnel" => "1.3.6.1.5.5.7.3.6",
                "ipsec user" => "1.3.6.1.5.5.7.3.7",
                "timestamping" => "1.3.6.1.5.5.7.3.8",
                "ocsp signing" => "1.3.6.1.5.5.7.3.9",
                "microsoft sgc" => "1.3.6.1.4.1.311.10.3.3",
                "netscape sgc" => "2.16.840.1.113730.4.1",
                _ => null,
            };
            if (oid is not null && !oids.Cast<Oid>().Any(o => o.Value == oid))
            {
                oids.Add(new Oid(oid));
            }
        }

        return oids;
    }

    public void Dispose()
    {
        caKey.Dispose();
        ca.Dispose();
    }
}
