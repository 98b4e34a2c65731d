using Kubesharp.Api.Autoscaling.V2;

namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>The AbleToScale, ScalingActive and ScalingLimited conditions, kept in the order first set, as upstream keeps them.</summary>
internal static class HorizontalPodAutoscalerConditions
{
    public const string AbleToScale = "AbleToScale";
    public const string ScalingActive = "ScalingActive";
    public const string ScalingLimited = "ScalingLimited";

    /// <summary>Sets a condition; its transition time moves only when its status changes.</summary>
    public static void Set(HorizontalPodAutoscalerStatus status, string type, bool value, string reason, string message, DateTimeOffset now)
    {
        var conditions = status.Conditions ??= [];
        var text = value ? "True" : "False";
        var index = conditions.FindIndex(c => c.Type == type);
        var existing = index >= 0 ? conditions[index] : null;
        var condition = new HorizontalPodAutoscalerCondition
        {
            Type = type,
            Status = text,
            Reason = reason,
            Message = message,
            LastTransitionTime = existing?.Status == text ? existing.LastTransitionTime : now,
        };
        if (index >= 0)
        {
            conditions[index] = condition;
        }
        else
        {
            conditions.Add(condition);
        }
    }
}
