using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Registry.Autoscaling;

/// <summary>
/// HorizontalPodAutoscaler between autoscaling/v1 and autoscaling/v2 (the stored version), as upstream converts it:
/// v1's <c>targetCPUUtilizationPercentage</c> is v2's CPU Utilization resource metric and
/// <c>currentCPUUtilizationPercentage</c> its current average utilization; what v1 cannot say (other metrics, behavior,
/// conditions) travels in the <c>autoscaling.alpha.kubernetes.io/*</c> annotations so a v1 round trip loses nothing.
/// </summary>
internal static class HorizontalPodAutoscalerConversion
{
    public const string V1 = "autoscaling/v1";
    public const string V2 = "autoscaling/v2";
    public const string MetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
    public const string CurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";
    public const string ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
    public const string BehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";

    /// <summary>Annotation values are JSON written as upstream's encoder writes it (no escaping of quotes or apostrophes).</summary>
    private static readonly System.Text.Json.JsonSerializerOptions AnnotationJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Upstream's target when an autoscaler names no metric: 80% of the pods' CPU requests.</summary>
    public const int DefaultCpuUtilization = 80;

    /// <summary>A v1 object as v2 (a new object; <paramref name="v1"/> is not changed).</summary>
    public static JsonObject ToV2(JsonObject v1)
    {
        var result = v1.DeepClone().AsObject();
        result["apiVersion"] = V2;
        var annotations = result["metadata"]?["annotations"] as JsonObject;
        var spec = result["spec"] as JsonObject;
        if (spec is not null)
        {
            var metrics = Take(annotations, MetricsAnnotation) as JsonArray ?? [];
            if (spec["targetCPUUtilizationPercentage"] is { } target)
            {
                metrics.Insert(0, CpuMetric(target.DeepClone()));
            }

            spec.Remove("targetCPUUtilizationPercentage");
            if (metrics.Count > 0)
            {
                spec["metrics"] = metrics;
            }

            if (Take(annotations, BehaviorAnnotation) is JsonObject behavior)
            {
                spec["behavior"] = behavior;
            }

            DefaultV2(spec);
        }

        var currentMetrics = Take(annotations, CurrentMetricsAnnotation) as JsonArray;
        var conditions = Take(annotations, ConditionsAnnotation) as JsonArray;
        if (result["status"] is JsonObject status)
        {
            currentMetrics ??= [];
            if (status["currentCPUUtilizationPercentage"] is { } current)
            {
                currentMetrics.Insert(0, new JsonObject
                {
                    ["type"] = "Resource",
                    ["resource"] = new JsonObject { ["name"] = "cpu", ["current"] = new JsonObject { ["averageUtilization"] = current.DeepClone() } },
                });
            }

            status.Remove("currentCPUUtilizationPercentage");
            if (currentMetrics.Count > 0)
            {
                status["currentMetrics"] = currentMetrics;
            }

            if (conditions is { Count: > 0 })
            {
                status["conditions"] = conditions;
            }
        }

        DropEmpty(result);
        return result;
    }

    /// <summary>A v2 object as v1 (a new object; <paramref name="v2"/> is not changed).</summary>
    public static JsonObject ToV1(JsonObject v2)
    {
        var result = v2.DeepClone().AsObject();
        result["apiVersion"] = V1;
        var extra = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        if (result["spec"] is JsonObject spec)
        {
            var others = new JsonArray();
            foreach (var metric in (spec["metrics"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (spec["targetCPUUtilizationPercentage"] is null && IsCpuUtilization(metric) &&
                    metric["resource"]?["target"]?["averageUtilization"] is { } utilization)
                {
                    spec["targetCPUUtilizationPercentage"] = utilization.DeepClone();
                }
                else
                {
                    others.Add(metric.DeepClone());
                }
            }

            spec.Remove("metrics");
            if (others.Count > 0)
            {
                extra[MetricsAnnotation] = others;
            }

            if (spec["behavior"] is JsonObject behavior)
            {
                extra[BehaviorAnnotation] = behavior.DeepClone();
                spec.Remove("behavior");
            }
        }

        if (result["status"] is JsonObject status)
        {
            var others = new JsonArray();
            foreach (var metric in (status["currentMetrics"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (status["currentCPUUtilizationPercentage"] is null && (string?)metric["type"] == "Resource" && (string?)metric["resource"]?["name"] == "cpu" &&
                    metric["resource"]?["current"]?["averageUtilization"] is { } utilization)
                {
                    status["currentCPUUtilizationPercentage"] = utilization.DeepClone();
                }
                else
                {
                    others.Add(metric.DeepClone());
                }
            }

            status.Remove("currentMetrics");
            if (others.Count > 0)
            {
                extra[CurrentMetricsAnnotation] = others;
            }

            if (status["conditions"] is JsonArray { Count: > 0 } conditions)
            {
                extra[ConditionsAnnotation] = conditions.DeepClone();
            }

            status.Remove("conditions");
        }

        if (extra.Count > 0)
        {
            var metadata = result["metadata"] as JsonObject ?? [];
            result["metadata"] = metadata;
            var annotations = metadata["annotations"] as JsonObject ?? [];
            metadata["annotations"] = annotations;
            foreach (var (key, value) in extra)
            {
                annotations[key] = value.ToJsonString(AnnotationJson);
            }
        }

        return result;
    }

    /// <summary>
    /// Upstream's v2 defaults: one replica at least, CPU at 80% when no metric is named, and a behavior's missing rules
    /// filled in (scale up at once by 4 pods or 100% per 15 s, whichever is more; scale down after 300 s by up to 100% per 15 s).
    /// </summary>
    public static void DefaultV2(JsonObject spec)
    {
        if (spec["minReplicas"] is null)
        {
            spec["minReplicas"] = 1;
        }

        if (spec["metrics"] is not JsonArray { Count: > 0 })
        {
            spec["metrics"] = new JsonArray(CpuMetric(DefaultCpuUtilization));
        }

        if (spec["behavior"] is JsonObject behavior)
        {
            DefaultRules(behavior, "scaleUp", 0, () => new JsonArray(Policy("Pods", 4, 15), Policy("Percent", 100, 15)));
            DefaultRules(behavior, "scaleDown", 300, () => new JsonArray(Policy("Percent", 100, 15)));
        }
    }

    private static void DefaultRules(JsonObject behavior, string direction, int window, Func<JsonArray> policies)
    {
        var rules = behavior[direction] as JsonObject ?? [];
        behavior[direction] = rules;
        rules["stabilizationWindowSeconds"] ??= window;
        rules["selectPolicy"] ??= "Max";
        rules["policies"] ??= policies();
    }

    private static JsonObject Policy(string type, int value, int period) =>
        new() { ["type"] = type, ["value"] = value, ["periodSeconds"] = period };

    private static JsonObject CpuMetric(JsonNode utilization) => new()
    {
        ["type"] = "Resource",
        ["resource"] = new JsonObject
        {
            ["name"] = "cpu",
            ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = utilization },
        },
    };

    private static bool IsCpuUtilization(JsonObject metric) =>
        (string?)metric["type"] == "Resource" && (string?)metric["resource"]?["name"] == "cpu" &&
        (string?)metric["resource"]?["target"]?["type"] == "Utilization";

    /// <summary>Removes an annotation and parses its JSON (null when absent or not JSON).</summary>
    private static JsonNode? Take(JsonObject? annotations, string key)
    {
        if (annotations?[key] is not { } value)
        {
            return null;
        }

        annotations.Remove(key);
        try
        {
            return JsonNode.Parse((string?)value ?? string.Empty);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static void DropEmpty(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject metadata && metadata["annotations"] is JsonObject { Count: 0 })
        {
            metadata.Remove("annotations");
        }
    }
}
