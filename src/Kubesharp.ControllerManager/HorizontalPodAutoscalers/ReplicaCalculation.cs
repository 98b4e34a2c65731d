namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>
/// The replica count one metric asks for, with what was measured: the average utilization in percent of the requests
/// (utilization targets only) and the average usage per pod in thousandths of the resource's unit.
/// </summary>
internal sealed record ReplicaCalculation(int Replicas, int? Utilization, long AverageMilliValue, DateTimeOffset Timestamp);
