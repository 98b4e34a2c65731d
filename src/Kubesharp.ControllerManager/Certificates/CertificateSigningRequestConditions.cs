using Kubesharp.Api.Certificates.V1;
using Kubesharp.ApiMachinery.Certificates;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>Reading a CertificateSigningRequest's Approved, Denied and Failed conditions.</summary>
internal static class CertificateSigningRequestConditions
{
    public static CertificateSigningRequestCondition? Find(CertificateSigningRequest csr, string type) =>
        csr.Status?.Conditions?.FirstOrDefault(c => c.Type == type && c.Status == "True");

    public static bool IsApproved(CertificateSigningRequest csr) => Find(csr, CertificateSigners.Approved) is not null;

    public static bool IsDenied(CertificateSigningRequest csr) => Find(csr, CertificateSigners.Denied) is not null;

    public static bool IsFailed(CertificateSigningRequest csr) => Find(csr, CertificateSigners.Failed) is not null;

    public static bool IsIssued(CertificateSigningRequest csr) => csr.Status?.Certificate is { Length: > 0 };
}
