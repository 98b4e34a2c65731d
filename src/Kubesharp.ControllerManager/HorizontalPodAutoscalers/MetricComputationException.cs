namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>A metric that gave no replica count; the message is what events and conditions report.</summary>
internal sealed class MetricComputationException(string message) : Exception(message);
