using Kubesharp.Api.Certificates.V1;
using Kubesharp.Client.Reconciliation;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// Upstream's csrsigning controller: issues the certificate of every approved request for a built-in signer with the
/// cluster CA (<see cref="CertificateSigner"/>) into <c>status.certificate</c>, or marks the request Failed when the
/// signer refuses what it asks for.
/// </summary>
internal sealed partial class CsrSigningController : CsrController
{
    public const string FailureReason = "SignerValidationFailure";

    private readonly CertificateSigner signer;

    public CsrSigningController(ControllerContext context, CertificateSigner signer)
        : base(context)
    {
        this.signer = signer;
    }

    public override string Name => "csrsigning";

    public override void Dispose()
    {
        base.Dispose();
        signer.Dispose();
    }

    public override async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (Requests.Get(null, key) is not { } csr || !CertificateSigner.Handles(csr.Spec?.SignerName) ||
            !CertificateSigningRequestConditions.IsApproved(csr) || CertificateSigningRequestConditions.IsFailed(csr) || CertificateSigningRequestConditions.IsIssued(csr))
        {
            return ReconcileResult.Done;
        }

        var now = Context.Time.GetUtcNow();
        var (certificate, failure) = signer.Sign(csr.Spec!, now);
        var status = csr.Status! with { };
        if (certificate is not null)
        {
            status.Certificate = System.Text.Encoding.UTF8.GetBytes(certificate);
        }
        else
        {
            status.Conditions = [.. status.Conditions ?? [], new CertificateSigningRequestCondition
            {
                Type = ApiMachinery.Certificates.CertificateSigners.Failed,
                Status = "True",
                Reason = FailureReason,
                Message = failure,
                LastUpdateTime = now,
                LastTransitionTime = now,
            }];
        }

        // The cached object's resourceVersion makes a stale read fail with Conflict instead of signing twice.
        await Context.Client.Resource<CertificateSigningRequest>().UpdateStatusAsync(csr with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (certificate is not null)
        {
            LogSigned(Logger, key, csr.Spec!.SignerName!);
        }
        else
        {
            LogFailed(Logger, key, failure!);
        }

        return ReconcileResult.Done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed certificate for CertificateSigningRequest {Name} ({Signer})")]
    private static partial void LogSigned(ILogger logger, string name, string signer);

    [LoggerMessage(Level = LogLevel.Information, Message = "CertificateSigningRequest {Name} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string name, string reason);
}
