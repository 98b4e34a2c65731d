using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api.Certificates.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Reconciliation;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// Upstream's csrcleaner: deletes requests an hour after they were approved, denied or failed, pending ones after a
/// day, and issued ones whose certificate has expired. Each request is looked at again when its time comes.
/// </summary>
internal sealed partial class CsrCleanerController : CsrController
{
    public static readonly TimeSpan ApprovedExpiration = TimeSpan.FromHours(1);
    public static readonly TimeSpan DeniedExpiration = TimeSpan.FromHours(1);
    public static readonly TimeSpan FailedExpiration = TimeSpan.FromHours(1);
    public static readonly TimeSpan PendingExpiration = TimeSpan.FromHours(24);


    public CsrCleanerController(ControllerContext context)
        : base(context)
    {
    }

    public override string Name => "csrcleaner";

    /// <summary>When the request is due for deletion, by upstream's ages.</summary>
    public static DateTimeOffset? DeletionDue(CertificateSigningRequest csr)
    {
        ArgumentNullException.ThrowIfNull(csr);
        var due = (DateTimeOffset?)null;
        void Earliest(DateTimeOffset? at)
        {
            if (at is { } value && (due is null || value < due))
            {
                due = value;
            }
        }

        if (CertificateSigningRequestConditions.Find(csr, ApiMachinery.Certificates.CertificateSigners.Approved) is { } approved)
        {
            Earliest(approved.LastUpdateTime + ApprovedExpiration);
        }

        if (CertificateSigningRequestConditions.Find(csr, ApiMachinery.Certificates.CertificateSigners.Denied) is { } denied)
        {
            Earliest(denied.LastUpdateTime + DeniedExpiration);
        }

        if (CertificateSigningRequestConditions.Find(csr, ApiMachinery.Certificates.CertificateSigners.Failed) is { } failed)
        {
            Earliest(failed.LastUpdateTime + FailedExpiration);
        }

        if (due is null && !CertificateSigningRequestConditions.IsIssued(csr))
        {
            Earliest(csr.Metadata?.CreationTimestamp + PendingExpiration);
        }

        if (csr.Status?.Certificate is { Length: > 0 } pem)
        {
            Earliest(CertificateExpiry(pem));
        }

        return due;
    }

    private static DateTimeOffset? CertificateExpiry(byte[] pem)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(System.Text.Encoding.UTF8.GetString(pem));
            return new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    public override async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (Requests.Get(null, key) is not { } csr || csr.Metadata?.DeletionTimestamp is not null || DeletionDue(csr) is not { } due)
        {
            return ReconcileResult.Done;
        }

        var left = due - Context.Time.GetUtcNow();
        if (left > TimeSpan.Zero)
        {
            return ReconcileResult.RequeueIn(left);
        }

        try
        {
            await Context.Client.Resource<CertificateSigningRequest>().DeleteAsync(null, key, new DeleteOptions
            {
                Preconditions = new Preconditions { Uid = csr.Metadata?.Uid },
            }, cancellationToken).ConfigureAwait(false);
            LogDeleted(Logger, key);
        }
        catch (StatusException e) when (e.IsNotFound() || e.Code == 409)
        {
        }

        return ReconcileResult.Done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleaned up CertificateSigningRequest {Name}")]
    private static partial void LogDeleted(ILogger logger, string name);
}
