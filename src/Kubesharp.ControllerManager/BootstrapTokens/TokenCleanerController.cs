using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.BootstrapTokens;

/// <summary>
/// Upstream's tokencleaner: deletes bootstrap token Secrets in kube-system once their <c>expiration</c> has passed,
/// and looks again at the moment a token expires.
/// </summary>
internal sealed partial class TokenCleanerController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly SharedInformer<Secret> informer;

    public TokenCleanerController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<TokenCleanerController>();
        // Only the bootstrap token Secrets of kube-system, as upstream's filtered informer: not every Secret of the cluster.
        informer = new SharedInformer<Secret>(
            context.Client.Resource<Secret>(),
            new SharedInformerOptions { Namespace = BootstrapToken.SecretNamespace, FieldSelector = "type=" + BootstrapToken.SecretType },
            context.Time,
            context.LoggerFactory.CreateLogger("Kubesharp.Client.Informers.BootstrapTokenSecretInformer"));
    }

    public string Name => "tokencleaner";

    /// <summary>The bootstrap token Secrets the controller sees.</summary>
    internal Lister<Secret> Tokens => informer.Lister;

    public void Register() => informer.AddEventHandler(Enqueue, (_, secret) => Enqueue(secret));

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watching = informer.RunAsync(stopping.Token);
        try
        {
            await informer.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            await new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            try
            {
                await watching.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void Enqueue(Secret secret) => queue.Add(ObjectKey.Of(secret));

    /// <summary>How long the token Secret has left (negative once expired); null when it never expires.</summary>
    public static TimeSpan? TimeLeft(Secret secret, DateTimeOffset now) =>
        BootstrapToken.TimeLeft(secret.Data?.GetValueOrDefault(BootstrapToken.ExpirationKey) is { } expiration ? Encoding.UTF8.GetString(expiration) : null, now);

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ObjectKey.Split(key);
        if (informer.Lister.Get(ns, name) is not { } secret || secret.Type != BootstrapToken.SecretType ||
            secret.Metadata?.DeletionTimestamp is not null || TimeLeft(secret, context.Time.GetUtcNow()) is not { } left)
        {
            return ReconcileResult.Done;
        }

        if (left > TimeSpan.Zero)
        {
            return ReconcileResult.RequeueIn(left);
        }

        try
        {
            // The uid precondition spares a token recreated under the same name since the cache saw this one.
            await context.Client.Resource<Secret>().DeleteAsync(ns, name, new DeleteOptions
            {
                Preconditions = new Preconditions { Uid = secret.Metadata?.Uid },
            }, cancellationToken).ConfigureAwait(false);
            LogDeleted(logger, ns, name);
        }
        catch (StatusException e) when (e.IsNotFound() || e.Code == 409)
        {
        }

        return ReconcileResult.Done;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bootstrap token Secret {Namespace}/{Name} expired: deleted")]
    private static partial void LogDeleted(ILogger logger, string @namespace, string name);
}
