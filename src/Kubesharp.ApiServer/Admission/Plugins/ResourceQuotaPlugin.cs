using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Quota;
using Kubesharp.ApiServer.Registry;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's ResourceQuota admission: a new object is refused when it would take a quota of its namespace past
/// spec.hard; otherwise its usage is charged to the quota's status.used before the object is stored, so concurrent
/// creates cannot overrun the quota (the quota controller recounts status.used from what exists). Updates of the
/// kinds whose usage can grow in place (services becoming NodePort or LoadBalancer, claims asking for more storage)
/// are charged the growth, as upstream's evaluators do; other kinds are charged only when created.
/// </summary>
internal sealed class ResourceQuotaPlugin(ResourceRegistry registry) : IValidatingAdmissionPlugin
{
    public string Name => "ResourceQuota";

    private static readonly HashSet<string> ChargedOnUpdate = new(StringComparer.Ordinal) { "services", "persistentvolumeclaims" };

    public bool Handles(AdmissionAttributes attributes) =>
        (attributes.Operation == AdmissionOperation.Create ||
         attributes.Operation == AdmissionOperation.Update && attributes.OldObject is not null && ChargedOnUpdate.Contains(attributes.Resource.GroupResource)) &&
        attributes.Subresource.Length == 0 && attributes.Resource.Namespaced &&
        attributes.Object is not null && registry.FindByGroupResource("resourcequotas") is not null;

    public async ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var quotas = registry.FindByGroupResource("resourcequotas")!;
        var inNamespace = registry.Cache.For(quotas).InNamespace(attributes.Namespace).Values.ToList();
        if (inNamespace.Count == 0)
        {
            return;
        }

        var groupResource = attributes.Resource.GroupResource;
        var usage = QuotaUsage.Of(groupResource, attributes.Object!);
        if (attributes.Operation == AdmissionOperation.Update)
        {
            // Only what the update adds is charged.
            var before = QuotaUsage.Of(groupResource, attributes.OldObject!);
            usage = usage
                .Select(u => KeyValuePair.Create(u.Key, before.TryGetValue(u.Key, out var old) ? u.Value.Subtract(old) : u.Value))
                .Where(u => u.Value.Sign > 0)
                .ToDictionary(u => u.Key, u => u.Value, StringComparer.Ordinal);
            if (usage.Count == 0)
            {
                return;
            }
        }

        foreach (var cached in inNamespace.OrderBy(q => q.Name, StringComparer.Ordinal))
        {
            var quota = cached.ToNode();
            if (!QuotaUsage.Covers(quota["spec"] as JsonObject, groupResource, attributes.Object!))
            {
                continue;
            }

            var hard = Quantities(quota["spec"]?["hard"]);
            var requested = usage.Where(u => hard.ContainsKey(u.Key)).ToDictionary(u => u.Key, u => u.Value, StringComparer.Ordinal);
            if (requested.Count == 0)
            {
                continue;
            }

            var used = Quantities(quota["status"]?["used"]);
            var unknown = requested.Keys.Where(k => !used.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                throw attributes.Forbidden($"status unknown for quota: {cached.Name}, resources: {string.Join(",", unknown)}");
            }

            var exceeded = requested.Keys.Where(k => used[k].Add(requested[k]) > hard[k]).ToList();
            if (exceeded.Count > 0)
            {
                throw attributes.Forbidden(
                    $"exceeded quota: {cached.Name}, requested: {QuotaUsage.Format(exceeded.Select(k => KeyValuePair.Create(k, requested[k])))}, " +
                    $"used: {QuotaUsage.Format(exceeded.Select(k => KeyValuePair.Create(k, used[k])))}, " +
                    $"limited: {QuotaUsage.Format(exceeded.Select(k => KeyValuePair.Create(k, hard[k])))}");
            }

            if (!attributes.DryRun)
            {
                await ChargeAsync(attributes, quotas, cached.Name, requested, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Adds the usage to status.used, checking the limit again on the latest quota (another create may have won).</summary>
    private async Task ChargeAsync(AdmissionAttributes attributes, ApiMachinery.Discovery.ApiResource quotas, string name, Dictionary<string, Quantity> requested, CancellationToken cancellationToken)
    {
        await registry.UpdateAsync(quotas, attributes.Namespace, name, current =>
        {
            var quota = current.ToNode();
            ((JsonObject)quota["metadata"]!).Remove("resourceVersion");
            var hard = Quantities(quota["spec"]?["hard"]);
            var status = quota["status"] as JsonObject ?? (JsonObject)(quota["status"] = new JsonObject());
            var used = status["used"] as JsonObject ?? (JsonObject)(status["used"] = new JsonObject());
            var exceeded = new List<string>();
            foreach (var (key, amount) in requested)
            {
                var now = Quantity.TryParse((string?)used[key], out var q) ? q : Quantity.Zero;
                var next = now.Add(amount);
                if (hard.TryGetValue(key, out var limit) && next > limit)
                {
                    exceeded.Add(key);
                }

                used[key] = next.ToString();
            }

            if (exceeded.Count > 0)
            {
                var before = Quantities(current.ToNode()["status"]?["used"]);
                throw attributes.Forbidden(
                    $"exceeded quota: {name}, requested: {QuotaUsage.Format(exceeded.Select(k => KeyValuePair.Create(k, requested[k])))}, " +
                    $"used: {QuotaUsage.Format(exceeded.Select(k => KeyValuePair.Create(k, before.GetValueOrDefault(k))))}, " +
                    $"limited: {QuotaUsage.Format(exceeded.Select(k => KeyValuePair.Create(k, hard[k])))}");
            }

            return quota;
        }, "status", dryRun: false, cancellationToken).ConfigureAwait(false);
    }

    private static Dictionary<string, Quantity> Quantities(JsonNode? map)
    {
        var result = new Dictionary<string, Quantity>(StringComparer.Ordinal);
        foreach (var (key, value) in map as JsonObject ?? [])
        {
            if (value is JsonValue v && v.TryGetValue<string>(out var text) && Quantity.TryParse(text, out var q))
            {
                result[key] = q;
            }
        }

        return result;
    }
}
