using System.Globalization;
using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>The first rule of a Job's pod failure policy that a failed pod matches, and upstream's message for it.</summary>
internal sealed record PodFailurePolicyMatch(string Action, string Message)
{
    public const string FailJob = "FailJob";
    public const string FailIndex = "FailIndex";
    public const string Ignore = "Ignore";
    public const string Count = "Count";

    /// <summary>The matching rule's action and message, or null when no rule matches (the failure counts).</summary>
    public static PodFailurePolicyMatch? Find(PodFailurePolicy? policy, Pod pod)
    {
        if (policy?.Rules is not { } rules || pod.Status?.Phase != "Failed")
        {
            return null;
        }

        var podName = $"{pod.Metadata?.Namespace}/{pod.Metadata?.Name}";
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var action = rule.Action ?? Count;
            if (rule.OnExitCodes is { } exitCodes)
            {
                if (MatchingContainer(exitCodes, pod) is { } container)
                {
                    var code = container.State!.Terminated!.ExitCode!.Value.ToString(CultureInfo.InvariantCulture);
                    return new PodFailurePolicyMatch(action, $"Container {container.Name} for pod {podName} failed with exit code {code} matching {action} rule at index {i}");
                }
            }
            else if (rule.OnPodConditions is { } patterns)
            {
                foreach (var pattern in patterns)
                {
                    var wanted = pattern.Status ?? "True";
                    if (pod.Status.Conditions?.Any(c => c.Type == pattern.Type && c.Status == wanted) == true)
                    {
                        return new PodFailurePolicyMatch(action, $"Pod {podName} has condition {pattern.Type} matching {action} rule at index {i}");
                    }
                }
            }
        }

        return null;
    }

    /// <summary>A container (init containers first) that ended with a non-zero code the requirement matches; code 0 never matches.</summary>
    private static ContainerStatus? MatchingContainer(PodFailurePolicyOnExitCodesRequirement requirement, Pod pod)
    {
        foreach (var status in (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []))
        {
            if (requirement.ContainerName is { } name && status.Name != name)
            {
                continue;
            }

            if (status.State?.Terminated is not { ExitCode: { } exitCode } || exitCode == 0)
            {
                continue;
            }

            var listed = requirement.Values?.Contains(exitCode) == true;
            if (requirement.Operator == "NotIn" ? !listed : listed)
            {
                return status;
            }
        }

        return null;
    }
}
