using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry.Autoscaling;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>HorizontalPodAutoscalers (v1 and v2 bodies): upstream's defaults and the checks of the replica bounds and target.</summary>
internal sealed class HorizontalPodAutoscalerStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        DefaultSpec(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        DefaultSpec(updated);
    }

    private static void DefaultSpec(JsonObject obj)
    {
        var spec = Ensure(obj, "spec");
        if ((string?)obj["apiVersion"] == HorizontalPodAutoscalerConversion.V1)
        {
            Default(spec, "minReplicas", 1);
        }
        else
        {
            HorizontalPodAutoscalerConversion.DefaultV2(spec);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        var target = spec?["scaleTargetRef"] as JsonObject;
        if (string.IsNullOrEmpty((string?)target?["kind"]))
        {
            causes.Add(Required("spec.scaleTargetRef.kind"));
        }

        if (string.IsNullOrEmpty((string?)target?["name"]))
        {
            causes.Add(Required("spec.scaleTargetRef.name"));
        }

        var max = Int(spec?["maxReplicas"]);
        var min = Int(spec?["minReplicas"]);
        if (max is null || max < 1)
        {
            causes.Add(InvalidNumber("spec.maxReplicas", max, "must be greater than or equal to 1"));
        }

        if (min is { } m && m < 1)
        {
            causes.Add(InvalidNumber("spec.minReplicas", min, "must be greater than or equal to 1"));
        }
        else if (min is { } low && max is { } high && low > high)
        {
            causes.Add(InvalidNumber("spec.minReplicas", min, "must be less than or equal to maxReplicas"));
        }

        if (Int(spec?["targetCPUUtilizationPercentage"]) is { } percent && percent < 1)
        {
            causes.Add(InvalidNumber("spec.targetCPUUtilizationPercentage", percent, "must be greater than 0"));
        }
    }

    private static int? Int(JsonNode? node) => node is JsonValue value && value.TryGetValue<int>(out var i) ? i : null;

    /// <summary>Upstream prints a number it refuses without quotes.</summary>
    private static StatusCause InvalidNumber(string field, int? value, string detail) =>
        new("FieldValueInvalid", $"Invalid value: {(value ?? 0).ToString(CultureInfo.InvariantCulture)}: {detail}", field);
}
