using Kubesharp.Api.Rbac.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Client.WorkQueues;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ControllerManager.ClusterRoleAggregation;

/// <summary>
/// Fills the rules of every ClusterRole with an aggregationRule with the rules of the ClusterRoles its selectors
/// match (upstream's clusterrole-aggregation controller): how admin, edit and view grow with each role labelled
/// aggregate-to-admin/edit/view, custom resources' roles included.
/// </summary>
internal sealed class ClusterRoleAggregationController : IController, IReconciler
{
    private readonly ControllerContext context;
    private readonly WorkQueue<string> queue;
    private readonly ILogger logger;
    private readonly InformerSyncs syncs = new();
    private Lister<ClusterRole> clusterRoles = null!;

    public ClusterRoleAggregationController(ControllerContext context)
    {
        this.context = context;
        queue = new WorkQueue<string>(RateLimiters.DefaultController<string>(context.Time), context.Time);
        logger = context.LoggerFactory.CreateLogger<ClusterRoleAggregationController>();
    }

    public string Name => "clusterrole-aggregation";

    public void Register()
    {
        var informer = context.Informers.Informer<ClusterRole>();
        clusterRoles = informer.Lister;
        // Any role may be a source of any aggregated one: every change looks at all aggregated roles.
        informer.AddEventHandler(_ => EnqueueAggregated(), (_, _) => EnqueueAggregated(), _ => EnqueueAggregated());
        syncs.Add(informer.WaitForSyncAsync);
    }

    private void EnqueueAggregated()
    {
        foreach (var role in clusterRoles.List())
        {
            if (role.AggregationRule is not null)
            {
                queue.Add(role.Metadata!.Name!);
            }
        }
    }

    public void Dispose() => queue.Dispose();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await syncs.WaitAsync(cancellationToken).ConfigureAwait(false);
        EnqueueAggregated();
        await new ReconcileWorker(Name, queue, this, logger).RunAsync(1, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var role = clusterRoles.Get(null, key);
        if (role?.AggregationRule?.ClusterRoleSelectors is not { } selectors)
        {
            return ReconcileResult.Done;
        }

        var matchers = selectors.Select(LabelSelectorMatcher.FromLabelSelector).ToList();
        var rules = new List<PolicyRule>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in clusterRoles.List().OrderBy(r => r.Metadata!.Name, StringComparer.Ordinal))
        {
            if (source.Metadata!.Name == key || !matchers.Any(m => m.Matches(source.Metadata.Labels)))
            {
                continue;
            }

            foreach (var rule in source.Rules ?? [])
            {
                // The same rule from two roles is listed once.
                if (seen.Add(Convert.ToBase64String(KubernetesJson.Serialize(rule))))
                {
                    rules.Add(rule);
                }
            }
        }

        var current = (role.Rules ?? []).Select(r => Convert.ToBase64String(KubernetesJson.Serialize(r)));
        if (current.SequenceEqual(rules.Select(r => Convert.ToBase64String(KubernetesJson.Serialize(r))), StringComparer.Ordinal))
        {
            return ReconcileResult.Done;
        }

        try
        {
            await context.Client.Resource<ClusterRole>().UpdateAsync(role with { Rules = rules }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            // Deleted meanwhile: nothing to fill.
        }

        return ReconcileResult.Done;
    }
}
