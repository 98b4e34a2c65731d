using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.ApiMachinery.Certificates;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// A PKCS#10 request of a CertificateSigningRequest, its signature checked: the subject's common name and
/// organizations, and the subject alternative names it asks for, by kind.
/// </summary>
internal sealed class ParsedCertificateRequest
{
    private const string SubjectAltNameOid = "2.5.29.17";

    private ParsedCertificateRequest(CertificateRequest request)
    {
        Request = request;
        foreach (var rdn in request.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            var value = rdn.GetSingleElementValue();
            switch (rdn.GetSingleElementType().Value)
            {
                case "2.5.4.3" when value is not null:
                    CommonName = value;
                    break;
                case "2.5.4.10" when value is not null:
                    Organizations.Add(value);
                    break;
            }
        }

        SubjectAlternativeNames = request.CertificateExtensions.FirstOrDefault(e => e.Oid?.Value == SubjectAltNameOid);
        if (SubjectAlternativeNames is not null)
        {
            ReadNames(SubjectAlternativeNames.RawData);
        }
    }

    public CertificateRequest Request { get; }

    public string CommonName { get; } = string.Empty;

    public List<string> Organizations { get; } = [];

    /// <summary>The requested subjectAltName extension as sent, copied into the certificate.</summary>
    public X509Extension? SubjectAlternativeNames { get; }

    public int DnsNames { get; private set; }

    public int IpAddresses { get; private set; }

    public int EmailAddresses { get; private set; }

    public int Uris { get; private set; }

    /// <summary>Parses <c>spec.request</c> (PEM bytes); throws <see cref="CryptographicException"/> when it is not a well-signed request.</summary>
    public static ParsedCertificateRequest Parse(byte[] pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var request = CertificateRequest.LoadSigningRequestPem(Encoding.UTF8.GetString(pem), HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        return new ParsedCertificateRequest(request);
    }

    /// <summary>Why this is not a kubelet's client request (system:node:NAME in system:nodes, no alternative names, client usages); null when it is.</summary>
    public string? KubeletClientProblem(IReadOnlyCollection<string> usages)
    {
        if (Organizations is not [CertificateSigners.NodesGroup])
        {
            return "subject organization is not system:nodes";
        }

        if (!CommonName.StartsWith(CertificateSigners.NodeUserPrefix, StringComparison.Ordinal))
        {
            return "subject common name does not begin with system:node:";
        }

        if (DnsNames > 0)
        {
            return "DNS subjectAltNames are not allowed";
        }

        if (EmailAddresses > 0)
        {
            return "Email subjectAltNames are not allowed";
        }

        if (IpAddresses > 0)
        {
            return "IP subjectAltNames are not allowed";
        }

        if (Uris > 0)
        {
            return "URI subjectAltNames are not allowed";
        }

        return UsagesProblem(usages, [CertificateSigners.DigitalSignature, CertificateSigners.KeyEncipherment, CertificateSigners.ClientAuth], CertificateSigners.ClientAuth);
    }

    /// <summary>Why this is not a kubelet's serving request; null when it is.</summary>
    public string? KubeletServingProblem(IReadOnlyCollection<string> usages)
    {
        if (Organizations is not [CertificateSigners.NodesGroup])
        {
            return "subject organization is not system:nodes";
        }

        if (!CommonName.StartsWith(CertificateSigners.NodeUserPrefix, StringComparison.Ordinal))
        {
            return "subject common name does not begin with system:node:";
        }

        if (DnsNames == 0 && IpAddresses == 0)
        {
            return "DNS or IP subjectAltName is required";
        }

        if (EmailAddresses > 0)
        {
            return "Email subjectAltNames are not allowed";
        }

        if (Uris > 0)
        {
            return "URI subjectAltNames are not allowed";
        }

        return UsagesProblem(usages, [CertificateSigners.DigitalSignature, CertificateSigners.KeyEncipherment, CertificateSigners.ServerAuth], CertificateSigners.ServerAuth);
    }

    /// <summary>Why this cannot be an API server client certificate; null when it can.</summary>
    public static string? ApiServerClientProblem(IReadOnlyCollection<string> usages) =>
        usages.FirstOrDefault(u => u is not (CertificateSigners.DigitalSignature or CertificateSigners.KeyEncipherment or CertificateSigners.ClientAuth)) is { } bad
            ? $"invalid usage for client certificate: {bad}"
            : usages.Contains(CertificateSigners.ClientAuth) ? null : $"missing required usage for client certificate: {CertificateSigners.ClientAuth}";

    private static string? UsagesProblem(IReadOnlyCollection<string> usages, string[] allowed, string required) =>
        usages.Contains(required) && usages.All(allowed.Contains) ? null : $"usages did not match [{string.Join(' ', allowed)}]";

    private void ReadNames(byte[] raw)
    {
        try
        {
            var names = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                names.ReadEncodedValue();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    continue;
                }

                switch (tag.TagValue)
                {
                    case 1:
                        EmailAddresses++;
                        break;
                    case 2:
                        DnsNames++;
                        break;
                    case 6:
                        Uris++;
                        break;
                    case 7:
                        IpAddresses++;
                        break;
                }
            }
        }
        catch (AsnContentException e)
        {
            throw new CryptographicException("the subjectAltName extension cannot be read", e);
        }
    }
}
