namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>One pod's usage of a resource (in thousandths of its unit) as the metrics API measured it over <paramref name="Window"/>.</summary>
internal readonly record struct PodMetric(long MilliValue, DateTimeOffset Timestamp, TimeSpan Window);
