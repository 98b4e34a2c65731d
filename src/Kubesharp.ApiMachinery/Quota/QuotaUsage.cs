using System.Text.Json.Nodes;

namespace Kubesharp.ApiMachinery.Quota;

/// <summary>
/// What an object costs against a ResourceQuota (upstream's quota evaluators) and whether a quota's scopes cover
/// it. Shared by the API server's ResourceQuota admission, which charges new objects, and the quota controller,
/// which recounts status.used.
/// </summary>
public static class QuotaUsage
{
    /// <summary>The object counts with legacy names besides count/&lt;resource&gt;.</summary>
    private static readonly Dictionary<string, string> LegacyCounts = new(StringComparer.Ordinal)
    {
        ["pods"] = "pods", ["services"] = "services", ["configmaps"] = "configmaps", ["secrets"] = "secrets",
        ["replicationcontrollers"] = "replicationcontrollers", ["resourcequotas"] = "resourcequotas",
        ["persistentvolumeclaims"] = "persistentvolumeclaims",
    };

    /// <summary>The usage of one object of <paramref name="groupResource"/> (e.g. "pods", "deployments.apps").</summary>
    public static Dictionary<string, Quantity> Of(string groupResource, JsonObject obj)
    {
        var usage = new Dictionary<string, Quantity>(StringComparer.Ordinal);
        if (groupResource == "pods" && IsTerminal(obj))
        {
            return usage;
        }

        usage["count/" + groupResource] = new Quantity(1);
        if (LegacyCounts.TryGetValue(groupResource, out var legacy))
        {
            usage[legacy] = new Quantity(1);
        }

        switch (groupResource)
        {
            case "pods":
                foreach (var name in new[] { "cpu", "memory", "ephemeral-storage" })
                {
                    if (PodTotal(obj, "requests", name) is { } request)
                    {
                        usage["requests." + name] = request;
                        if (name != "ephemeral-storage")
                        {
                            usage[name] = request;
                        }
                    }

                    if (PodTotal(obj, "limits", name) is { } limit)
                    {
                        usage["limits." + name] = limit;
                    }
                }

                break;
            case "persistentvolumeclaims":
                if ((string?)obj["spec"]?["resources"]?["requests"]?["storage"] is { } storage && Quantity.TryParse(storage, out var size))
                {
                    usage["requests.storage"] = size;
                    if ((string?)obj["spec"]?["storageClassName"] is { Length: > 0 } storageClass)
                    {
                        usage[$"{storageClass}.storageclass.storage.k8s.io/requests.storage"] = size;
                        usage[$"{storageClass}.storageclass.storage.k8s.io/persistentvolumeclaims"] = new Quantity(1);
                    }
                }

                break;
            case "services":
                var type = (string?)obj["spec"]?["type"];
                var nodePorts = (obj["spec"]?["ports"] as JsonArray)?.Count ?? 0;
                if (type is "NodePort" or "LoadBalancer")
                {
                    usage["services.nodeports"] = new Quantity(nodePorts);
                }

                if (type == "LoadBalancer")
                {
                    usage["services.loadbalancers"] = new Quantity(1);
                }

                break;
        }

        return usage;
    }

    /// <summary>Whether a quota with <paramref name="quotaSpec"/> covers the object (scopes and scopeSelector apply to pods).</summary>
    public static bool Covers(JsonObject? quotaSpec, string groupResource, JsonObject obj)
    {
        var scopes = ((quotaSpec?["scopes"] as JsonArray)?.Select(s => (string?)s).OfType<string>() ?? [])
            .Select(s => (Scope: s, Operator: "Exists", Values: (IReadOnlyList<string>)[]))
            .Concat(((quotaSpec?["scopeSelector"]?["matchExpressions"] as JsonArray)?.OfType<JsonObject>() ?? [])
                .Select(e => (Scope: (string?)e["scopeName"] ?? string.Empty, Operator: (string?)e["operator"] ?? "Exists",
                    Values: (IReadOnlyList<string>)((e["values"] as JsonArray)?.Select(v => (string?)v).OfType<string>().ToList() ?? []))))
            .ToList();
        if (scopes.Count == 0)
        {
            return true;
        }

        if (groupResource != "pods")
        {
            return false;
        }

        var spec = obj["spec"] as JsonObject;
        foreach (var (scope, op, values) in scopes)
        {
            var matches = scope switch
            {
                "Terminating" => spec?["activeDeadlineSeconds"] is not null,
                "NotTerminating" => spec?["activeDeadlineSeconds"] is null,
                "BestEffort" => IsBestEffort(obj),
                "NotBestEffort" => !IsBestEffort(obj),
                "PriorityClass" => PriorityClassMatches((string?)spec?["priorityClassName"], op, values),
                "CrossNamespacePodAffinity" => false,
                _ => false,
            };
            if (scope is not "PriorityClass" && op == "DoesNotExist")
            {
                matches = !matches;
            }

            if (!matches)
            {
                return false;
            }
        }

        return true;
    }

    private static bool PriorityClassMatches(string? className, string op, IReadOnlyList<string> values) => op switch
    {
        "In" => className is not null && values.Contains(className),
        "NotIn" => className is null || !values.Contains(className),
        "Exists" => !string.IsNullOrEmpty(className),
        "DoesNotExist" => string.IsNullOrEmpty(className),
        _ => false,
    };

    /// <summary>"name=value" pairs sorted by name, joined with commas (upstream's quota message lists).</summary>
    public static string Format(IEnumerable<KeyValuePair<string, Quantity>> values) =>
        string.Join(",", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));

    private static bool IsTerminal(JsonObject pod) => (string?)pod["status"]?["phase"] is "Succeeded" or "Failed";

    private static bool IsBestEffort(JsonObject pod) =>
        Containers(pod).All(c => ((c["resources"]?["requests"] as JsonObject)?.Count ?? 0) == 0 && ((c["resources"]?["limits"] as JsonObject)?.Count ?? 0) == 0);

    /// <summary>A pod needs the sum of its containers, or its largest init container when that is more.</summary>
    private static Quantity? PodTotal(JsonObject pod, string field, string name)
    {
        Quantity? sum = null;
        foreach (var c in (pod["spec"]?["containers"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            if ((string?)c["resources"]?[field]?[name] is { } text && Quantity.TryParse(text, out var q))
            {
                sum = sum is { } s ? s.Add(q) : q;
            }
        }

        foreach (var c in (pod["spec"]?["initContainers"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            if ((string?)c["resources"]?[field]?[name] is { } text && Quantity.TryParse(text, out var q) && (sum is null || q > sum.Value))
            {
                sum = q;
            }
        }

        return sum;
    }

    private static IEnumerable<JsonObject> Containers(JsonObject pod) =>
        ((pod["spec"]?["containers"] as JsonArray)?.OfType<JsonObject>() ?? []).Concat((pod["spec"]?["initContainers"] as JsonArray)?.OfType<JsonObject>() ?? []);
}
