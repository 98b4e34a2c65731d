using System.Globalization;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.Kubelet.Simulation;

/// <summary>
/// Lets a pod on a simulated node run to completion: the annotation <c>kubesharp.io/simulated-exit-code</c> makes
/// every container end with that code as soon as the pod starts, so the pod is Succeeded (0) or Failed (anything
/// else) whatever its restart policy. Jobs use it to complete, or fail, on simulated nodes.
/// </summary>
public static class SimulatedExit
{
    public const string Annotation = "kubesharp.io/simulated-exit-code";

    /// <summary>The exit code the pod asks for, or null when it runs until deleted.</summary>
    public static int? Of(Pod pod) =>
        int.TryParse(pod.Metadata?.Annotations?.GetValueOrDefault(Annotation), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) ? code : null;

    /// <summary>The status of a pod whose containers all ended with <paramref name="exitCode"/> just now.</summary>
    public static PodStatus Finish(PodStatus running, int exitCode, DateTimeOffset now)
    {
        var succeeded = exitCode == 0;
        var reason = succeeded ? "Completed" : "Error";
        PodCondition NotReady(string type) => new() { Type = type, Status = "False", Reason = "PodCompleted", LastTransitionTime = now };
        return running with
        {
            Phase = succeeded ? "Succeeded" : "Failed",
            Conditions = (running.Conditions ?? [])
                .Select(c => c.Type is "Ready" or "ContainersReady" or "PodReadyToStartContainers" ? NotReady(c.Type!) : c)
                .ToList(),
            ContainerStatuses = (running.ContainerStatuses ?? []).Select(c => c with
            {
                Ready = false,
                Started = false,
                State = new ContainerState
                {
                    Terminated = new ContainerStateTerminated
                    {
                        ExitCode = exitCode,
                        Reason = reason,
                        StartedAt = c.State?.Running?.StartedAt ?? now,
                        FinishedAt = now,
                        ContainerID = c.ContainerID,
                    },
                },
            }).ToList(),
        };
    }
}
