using Kubesharp.Api.Certificates.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// Upstream's csrsigning controller: issues the certificate of every approved request for a built-in signer with the
/// cluster CA (<see cref="CertificateSigner"/>) into <c>status.certificate</c>, or marks the request Failed when the
/// signer refuses what it asks for.
/// </summary>
internal sealed partial class CsrSigningController : IController, IReconciler
{
    public const string FailureReason = "SignerValidationFailure";

    private readonly ControllerContext context;
    private readonly CertificateSigner signer;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<CertificateSigningRequest> requests = null!;

    public CsrSigningController(ControllerContext context, CertificateSigner signer)
    {
        this.context = context;
        this.signer = signer;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<CsrSigningController>();
    }

    public string Name => "csrsigning";

    public void Register()
    {
        var informer = context.Informers.Informer<CertificateSigningRequest>();
        requests = informer.Lister;
        informer.AddEventHandler(csr => queue.Add(csr.Metadata!.Name!), (_, csr) => queue.Add(csr.Metadata!.Name!));
        syncs.Add(informer.WaitForSyncAsync);
    }

    public void Dispose()
    {
        queue.Dispose();
        signer.Dispose();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (requests.Get(null, key) is not { } csr || !CertificateSigner.Handles(csr.Spec?.SignerName) ||
            !CertificateSigningRequestConditions.IsApproved(csr) || CertificateSigningRequestConditions.IsFailed(csr) || CertificateSigningRequestConditions.IsIssued(csr))
        {
            return ReconcileResult.Done;
        }

        var now = context.Time.GetUtcNow();
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
        await context.Client.Resource<CertificateSigningRequest>().UpdateStatusAsync(csr with { Status = status }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (certificate is not null)
        {
            LogSigned(logger, key, csr.Spec!.SignerName!);
        }
        else
        {
            LogFailed(logger, key, failure!);
        }

        return ReconcileResult.Done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed certificate for CertificateSigningRequest {Name} ({Signer})")]
    private static partial void LogSigned(ILogger logger, string name, string signer);

    [LoggerMessage(Level = LogLevel.Information, Message = "CertificateSigningRequest {Name} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string name, string reason);
}
