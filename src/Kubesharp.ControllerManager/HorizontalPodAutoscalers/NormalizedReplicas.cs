namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>
/// The replica count after stabilization and the scaling limits, with the reasons the AbleToScale and ScalingLimited
/// conditions report.
/// </summary>
internal sealed record NormalizedReplicas(int Replicas, string AbleToScaleReason, string AbleToScaleMessage, bool Limited, string LimitReason, string LimitMessage);
