using System.Security.Cryptography;
using Kubesharp.Api.Authorization.V1;
using Kubesharp.Api.Certificates.V1;
using Kubesharp.ApiMachinery.Certificates;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Reconciliation;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// Upstream's csrapproving controller: approves a pending kubelet client request (system:node:NAME in system:nodes,
/// no alternative names, client usages) when a SubjectAccessReview says its requester may create
/// <c>certificatesigningrequests/selfnodeclient</c> (a node renewing its own certificate) or
/// <c>certificatesigningrequests/nodeclient</c> (a bootstrapper asking for a new node). Other requests are left to people.
/// </summary>
internal sealed partial class CsrApprovingController : CsrController
{
    public const string Reason = "AutoApproved";
    public const string SelfNodeClientMessage = "Auto approving self kubelet client certificate after SubjectAccessReview.";
    public const string NodeClientMessage = "Auto approving kubelet client certificate after SubjectAccessReview.";


    public CsrApprovingController(ControllerContext context)
        : base(context)
    {
    }

    public override string Name => "csrapproving";

    public override async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (Requests.Get(null, key) is not { } csr || csr.Spec?.SignerName != CertificateSigners.KubeApiServerClientKubelet ||
            CertificateSigningRequestConditions.IsApproved(csr) || CertificateSigningRequestConditions.IsDenied(csr) || CertificateSigningRequestConditions.IsIssued(csr))
        {
            return ReconcileResult.Done;
        }

        ParsedCertificateRequest parsed;
        try
        {
            parsed = ParsedCertificateRequest.Parse(csr.Spec.Request ?? []);
        }
        catch (CryptographicException)
        {
            // The signer marks it Failed; there is nothing to approve.
            return ReconcileResult.Done;
        }

        if (parsed.KubeletClientProblem(csr.Spec.Usages ?? []) is not null)
        {
            return ReconcileResult.Done;
        }

        // The node renewing its own certificate first, then anyone allowed to ask for new nodes.
        string? message = null;
        if (csr.Spec.Username == parsed.CommonName && await AllowedAsync(csr.Spec, "selfnodeclient", cancellationToken).ConfigureAwait(false))
        {
            message = SelfNodeClientMessage;
        }
        else if (await AllowedAsync(csr.Spec, "nodeclient", cancellationToken).ConfigureAwait(false))
        {
            message = NodeClientMessage;
        }

        if (message is null)
        {
            return ReconcileResult.Done;
        }

        var now = Context.Time.GetUtcNow();
        var status = csr.Status is { } existing ? existing with { } : new CertificateSigningRequestStatus();
        status.Conditions = [.. status.Conditions ?? [], new CertificateSigningRequestCondition
        {
            Type = CertificateSigners.Approved,
            Status = "True",
            Reason = Reason,
            Message = message,
            LastUpdateTime = now,
            LastTransitionTime = now,
        }];
        await Context.Client.Resource<CertificateSigningRequest>().UpdateSubresourceAsync(null, key, "approval", csr with { Status = status }, cancellationToken).ConfigureAwait(false);
        LogApproved(Logger, key, csr.Spec.Username ?? string.Empty);
        return ReconcileResult.Done;
    }

    /// <summary>Asks the API server whether the requester may create the subresource, as who they were when they asked.</summary>
    private async Task<bool> AllowedAsync(CertificateSigningRequestSpec spec, string subresource, CancellationToken cancellationToken)
    {
        var review = await Context.Client.Resource<SubjectAccessReview>().CreateAsync(new SubjectAccessReview
        {
            ApiVersion = SubjectAccessReview.KubeApiVersion,
            Kind = SubjectAccessReview.KubeKind,
            Metadata = new ObjectMeta(),
            Spec = new SubjectAccessReviewSpec
            {
                User = spec.Username,
                Uid = spec.Uid,
                Groups = spec.Groups,
                Extra = spec.Extra,
                ResourceAttributes = new ResourceAttributes
                {
                    Group = CertificateSigningRequest.KubeGroup,
                    Resource = "certificatesigningrequests",
                    Subresource = subresource,
                    Verb = "create",
                },
            },
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return review.Status?.Allowed == true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Approved CertificateSigningRequest {Name} of {User}")]
    private static partial void LogApproved(ILogger logger, string name, string user);
}
