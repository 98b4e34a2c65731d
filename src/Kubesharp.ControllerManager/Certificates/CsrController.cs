using Kubesharp.Api.Certificates.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.Certificates;

/// <summary>
/// What the certificate controllers share: a queue of CertificateSigningRequest names fed by one informer, reconciled
/// by one worker. Each controller says what a request needs.
/// </summary>
internal abstract class CsrController : IController, IReconciler
{
    private readonly WorkQueue<string> queue;
    private readonly InformerSyncs syncs = new();

    protected CsrController(ControllerContext context)
    {
        Context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        Logger = context.LoggerFactory.CreateLogger(GetType());
    }

    public abstract string Name { get; }

    protected ControllerContext Context { get; }

    protected ILogger Logger { get; }

    protected Lister<CertificateSigningRequest> Requests { get; private set; } = null!;

    public void Register()
    {
        var informer = Context.Informers.Informer<CertificateSigningRequest>();
        Requests = informer.Lister;
        informer.AddEventHandler(csr => queue.Add(csr.Metadata!.Name!), (_, csr) => queue.Add(csr.Metadata!.Name!));
        syncs.Add(informer.WaitForSyncAsync);
    }

    public virtual void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new ReconcileWorker(Name, queue, this, Logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public abstract Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken);
}
