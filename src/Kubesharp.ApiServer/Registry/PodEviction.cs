using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Selectors;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry;

/// <summary>
/// The policy/v1 Eviction subresource of pods: deletes the pod unless that would break its
/// PodDisruptionBudget, in which case the client gets 429 and retries (what kubectl drain does). An allowed
/// eviction is recorded in the budget's status (disruptionsAllowed decremented, the pod in disruptedPods)
/// before the pod is deleted, so concurrent evictions cannot overrun the budget.
/// </summary>
internal sealed class PodEviction(ResourceRegistry registry)
{
    /// <summary>Beyond this many pending disruptions a budget refuses further evictions.</summary>
    private const int MaxDisruptedPods = 2000;

    private const string BudgetViolation = "Cannot evict pod as it would violate the pod's disruption budget.";

    public async Task EvictAsync(Kubesharp.ApiMachinery.Discovery.ApiResource pods, string @namespace, string name, JsonObject eviction, bool dryRun, CancellationToken cancellationToken)
    {
        var cached = registry.Get(pods, @namespace, name) ?? throw StatusError.NotFound(pods.Resource, pods.Group, name);
        var pod = cached.ToNode();
        var options = DeleteOptionsOf(eviction, dryRun);
        if (!CanIgnoreBudget(pod))
        {
            var budget = SelectingBudget(@namespace, pod);
            if (budget is not null)
            {
                await ChargeBudgetAsync(budget.Value.Resource, @namespace, budget.Value.Name, pod, name, dryRun, cancellationToken).ConfigureAwait(false);
            }
        }

        await registry.DeleteAsync(pods, @namespace, name, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pods that are finished, not yet running or already terminating disrupt nothing.</summary>
    private static bool CanIgnoreBudget(JsonObject pod) =>
        pod["metadata"]?["deletionTimestamp"] is not null ||
        (string?)pod["status"]?["phase"] is "Succeeded" or "Failed" or "Pending" or null;

    private (Kubesharp.ApiMachinery.Discovery.ApiResource Resource, string Name)? SelectingBudget(string @namespace, JsonObject pod)
    {
        var resource = registry.FindByGroupResource("poddisruptionbudgets.policy");
        if (resource is null)
        {
            return null;
        }

        var labels = pod["metadata"]?["labels"] as JsonObject;
        var matching = registry.Cache.For(resource).InNamespace(@namespace).Values
            .Where(b =>
            {
                var selector = LabelSelector.FromJson(b.ToNode()["spec"]?["selector"]);
                return !selector.IsEverything && selector.Matches(labels);
            })
            .ToList();
        if (matching.Count > 1)
        {
            throw new StatusError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        }

        return matching.Count == 1 ? (resource, matching[0].Name) : null;
    }

    private async Task ChargeBudgetAsync(Kubesharp.ApiMachinery.Discovery.ApiResource resource, string @namespace, string budgetName, JsonObject pod, string podName, bool dryRun, CancellationToken cancellationToken)
    {
        var podReady = (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => (string?)c["type"] == "Ready" && (string?)c["status"] == "True") == true;
        var now = registry.Now();
        await registry.UpdateAsync(resource, @namespace, budgetName, current =>
        {
            var budget = current.ToNode();
            var status = budget["status"] as JsonObject ?? [];
            var generation = (long?)budget["metadata"]?["generation"] ?? 0;
            var observed = (long?)status["observedGeneration"] ?? 0;
            if (observed < generation)
            {
                throw TooManyRequests($"The disruption budget {budgetName} is still being processed by the server.");
            }

            var currentHealthy = (int?)status["currentHealthy"] ?? 0;
            var desiredHealthy = (int?)status["desiredHealthy"] ?? 0;
            var policy = (string?)budget["spec"]?["unhealthyPodEvictionPolicy"];
            if (!podReady && (policy == "AlwaysAllow" || (currentHealthy >= desiredHealthy && desiredHealthy > 0)))
            {
                // An unhealthy pod costs the budget nothing.
                return budget;
            }

            var allowed = (int?)status["disruptionsAllowed"] ?? 0;
            var disrupted = status["disruptedPods"] as JsonObject ?? [];
            if (allowed < 0)
            {
                throw StatusError.Forbidden("pods", "policy", podName, "pdb disruptions allowed is negative");
            }

            if (disrupted.Count > MaxDisruptedPods)
            {
                throw StatusError.Forbidden("pods", "policy", podName, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
            }

            if (allowed == 0)
            {
                throw TooManyRequests(string.Create(CultureInfo.InvariantCulture, $"The disruption budget {budgetName} needs {desiredHealthy} healthy pods and has {currentHealthy} currently"));
            }

            status["disruptionsAllowed"] = allowed - 1;
            disrupted[podName] = now;
            status["disruptedPods"] = disrupted;
            budget["status"] = status;
            return budget;
        }, "status", dryRun, cancellationToken).ConfigureAwait(false);
    }

    private static StatusError TooManyRequests(string cause) =>
        new(429, "TooManyRequests", BudgetViolation, causes: [new StatusCause("DisruptionBudget", cause, null)]);

    private static DeleteOptions DeleteOptionsOf(JsonObject eviction, bool dryRun)
    {
        var options = eviction["deleteOptions"] as JsonObject;
        return new DeleteOptions
        {
            PropagationPolicy = (string?)options?["propagationPolicy"],
            GracePeriodSeconds = (long?)options?["gracePeriodSeconds"],
            PreconditionUid = (string?)options?["preconditions"]?["uid"],
            PreconditionResourceVersion = (string?)options?["preconditions"]?["resourceVersion"],
            DryRun = dryRun || (options?["dryRun"] as JsonArray)?.Count > 0,
        };
    }
}
