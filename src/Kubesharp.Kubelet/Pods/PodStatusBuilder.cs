using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.Kubelet.Probes;
using CriContainerState = Kubesharp.Cri.V1.ContainerState;
using CriContainerStatus = Kubesharp.Cri.V1.ContainerStatus;

namespace Kubesharp.Kubelet.Pods;

/// <summary>Computes a pod's status from what the runtime reports, the probe results and why containers wait.</summary>
internal static class PodStatusBuilder
{
    private const int MaxTerminationMessageBytes = 4096;

    public static PodStatus Build(
        Pod pod,
        RuntimePod state,
        string? podIp,
        string hostIp,
        ProbeManager probes,
        IReadOnlyDictionary<string, (string Reason, string Message)> waiting,
        string? deadlineReason,
        DateTimeOffset now)
    {
        var spec = pod.Spec!;
        var uid = pod.Metadata!.Uid!;
        var old = pod.Status;
        var restartPolicy = spec.RestartPolicy ?? "Always";
        var sandboxId = state.ReadySandbox?.Id ?? (state.Sandboxes.Count > 0 ? state.Sandboxes[0].Id : null);

        var initStatuses = new List<ContainerStatus>();
        var initialized = true;
        var initFailed = false;
        foreach (var init in spec.InitContainers ?? [])
        {
            var status = ContainerStatusOf(init, state.Latest(init.Name!, sandboxId), state.Previous(init.Name!), probes, waiting.GetValueOrDefault(PodSyncer.Key(uid, init.Name!)), initialized ? "PodInitializing" : "PodInitializing");
            status.Ready = status.State?.Terminated?.ExitCode == 0;
            initStatuses.Add(status);
            if (status.State?.Terminated is not { ExitCode: 0 })
            {
                initFailed |= status.State?.Terminated is { } t && t.ExitCode != 0 && restartPolicy == "Never";
                initialized = false;
            }
        }

        var statuses = new List<ContainerStatus>();
        foreach (var container in spec.Containers ?? [])
        {
            var latest = initialized ? state.Latest(container.Name!, sandboxId) : null;
            statuses.Add(ContainerStatusOf(container, latest, state.Previous(container.Name!), probes, waiting.GetValueOrDefault(PodSyncer.Key(uid, container.Name!)), initialized ? "ContainerCreating" : "PodInitializing"));
        }

        var phase = deadlineReason is not null || initFailed ? "Failed" : Phase(statuses, restartPolicy, initialized);
        var containersReady = statuses.Count > 0 && statuses.All(s => s.Ready == true);
        var ready = containersReady && (spec.ReadinessGates ?? []).All(gate =>
            old?.Conditions?.FirstOrDefault(c => c.Type == gate.ConditionType)?.Status == "True");
        var conditions = new List<PodCondition>
        {
            Condition(old, "PodReadyToStartContainers", state.ReadySandbox is not null, null, now),
            Condition(old, "Initialized", initialized, initialized ? null : "ContainersNotInitialized", now,
                initialized ? null : $"containers with incomplete status: [{string.Join(" ", initStatuses.Where(s => s.State?.Terminated is not { ExitCode: 0 }).Select(s => s.Name))}]"),
            Condition(old, "Ready", ready, ready ? null : "ContainersNotReady", now, ready ? null : NotReadyMessage(statuses)),
            Condition(old, "ContainersReady", containersReady, containersReady ? null : "ContainersNotReady", now, containersReady ? null : NotReadyMessage(statuses)),
            Condition(old, "PodScheduled", true, null, now),
        };
        foreach (var gate in spec.ReadinessGates ?? [])
        {
            if (old?.Conditions?.FirstOrDefault(c => c.Type == gate.ConditionType) is { } custom)
            {
                conditions.Add(custom);
            }
        }

        var result = new PodStatus
        {
            Phase = phase,
            Conditions = conditions,
            HostIP = hostIp,
            HostIPs = [new HostIP { Ip = hostIp }],
            PodIP = podIp,
            PodIPs = podIp is null ? null : [new PodIP { Ip = podIp }],
            StartTime = old?.StartTime ?? now,
            QosClass = PodQos.ClassOf(spec),
            InitContainerStatuses = initStatuses.Count > 0 ? initStatuses : null,
            ContainerStatuses = statuses,
            ObservedGeneration = pod.Metadata.Generation,
        };
        if (deadlineReason is not null)
        {
            result.Reason = deadlineReason;
            result.Message = "Pod was active on the node longer than the specified deadline";
        }

        return result;
    }

    private static ContainerStatus ContainerStatusOf(
        Container container,
        CriContainerStatus? latest,
        CriContainerStatus? previous,
        ProbeManager probes,
        (string Reason, string Message) waitingFor,
        string defaultWaiting)
    {
        var status = new ContainerStatus
        {
            Name = container.Name,
            Image = container.Image,
            ImageID = latest?.ImageRef ?? "",
            RestartCount = (int)(latest?.Metadata.Attempt ?? 0),
            Ready = false,
            Started = false,
        };
        if (previous is { State: CriContainerState.ContainerExited })
        {
            status.LastState = new ContainerState { Terminated = Terminated(previous) };
        }

        if (latest is null)
        {
            status.State = new ContainerState { Waiting = new ContainerStateWaiting { Reason = waitingFor.Reason ?? defaultWaiting, Message = waitingFor.Message } };
            status.LastState ??= new ContainerState();
            return status;
        }

        status.ContainerID = "containerd://" + latest.Id;
        switch (latest.State)
        {
            case CriContainerState.ContainerRunning:
                status.State = new ContainerState { Running = new ContainerStateRunning { StartedAt = PodSyncer.FromNanos(latest.StartedAt) } };
                status.Started = probes.IsStarted(container, latest.Id);
                status.Ready = status.Started == true && probes.IsReady(container, latest.Id);
                break;
            case CriContainerState.ContainerExited when waitingFor.Reason is "CrashLoopBackOff" or "CreateContainerConfigError" or "ErrImagePull" or "ImagePullBackOff" or "CreateContainerError":
                // Waiting to start again: the exit just seen becomes the last state.
                status.State = new ContainerState { Waiting = new ContainerStateWaiting { Reason = waitingFor.Reason, Message = waitingFor.Message } };
                status.LastState = new ContainerState { Terminated = Terminated(latest) };
                break;
            case CriContainerState.ContainerExited:
                status.State = new ContainerState { Terminated = Terminated(latest) };
                break;
            default:
                status.State = new ContainerState { Waiting = new ContainerStateWaiting { Reason = "ContainerCreating" } };
                break;
        }

        status.LastState ??= new ContainerState();
        return status;
    }

    private static ContainerStateTerminated Terminated(CriContainerStatus container)
    {
        var reason = container.Reason is { Length: > 0 } r ? r : container.ExitCode == 0 ? "Completed" : "Error";
        return new ContainerStateTerminated
        {
            ExitCode = container.ExitCode,
            Reason = reason,
            Message = TerminationMessage(container),
            StartedAt = container.StartedAt > 0 ? PodSyncer.FromNanos(container.StartedAt) : null,
            FinishedAt = container.FinishedAt > 0 ? PodSyncer.FromNanos(container.FinishedAt) : null,
            ContainerID = "containerd://" + container.Id,
        };
    }

    /// <summary>The termination message file, or with FallbackToLogsOnError the log's tail when the file is empty and the container failed.</summary>
    private static string? TerminationMessage(CriContainerStatus container)
    {
        string? message = null;
        if (container.Annotations.TryGetValue(CriLabels.TerminationMessageHostPath, out var path) && File.Exists(path))
        {
            var bytes = File.ReadAllBytes(path);
            message = System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, MaxTerminationMessageBytes));
        }

        if (string.IsNullOrEmpty(message) && container.ExitCode != 0
            && container.Annotations.TryGetValue(CriLabels.TerminationMessagePolicy, out var policy) && policy == "FallbackToLogsOnError"
            && File.Exists(container.LogPath))
        {
            var lines = Streaming.CriLogReader.ReadAll(container.LogPath).TakeLast(80).Select(l => l.Content);
            message = string.Concat(lines);
            if (message.Length > 2048)
            {
                message = message[^2048..];
            }
        }

        return string.IsNullOrEmpty(message) ? null : message;
    }

    private static string Phase(List<ContainerStatus> statuses, string restartPolicy, bool initialized)
    {
        if (!initialized)
        {
            return "Pending";
        }

        int running = 0, waiting = 0, stopped = 0, succeeded = 0;
        foreach (var status in statuses)
        {
            if (status.State?.Running is not null)
            {
                running++;
            }
            else if (status.State?.Terminated is { } terminated)
            {
                stopped++;
                succeeded += terminated.ExitCode == 0 ? 1 : 0;
            }
            else if (status.LastState?.Terminated is not null)
            {
                stopped++;
            }
            else
            {
                waiting++;
            }
        }

        if (waiting > 0)
        {
            return "Pending";
        }

        if (running > 0)
        {
            return "Running";
        }

        if (stopped > 0)
        {
            return restartPolicy switch
            {
                "Always" => "Running",
                "OnFailure" => stopped == succeeded ? "Succeeded" : "Running",
                _ => stopped == succeeded ? "Succeeded" : "Failed",
            };
        }

        return "Pending";
    }

    private static PodCondition Condition(PodStatus? old, string type, bool value, string? reason, DateTimeOffset now, string? message = null)
    {
        var status = value ? "True" : "False";
        var previous = old?.Conditions?.FirstOrDefault(c => c.Type == type);
        return new PodCondition
        {
            Type = type,
            Status = status,
            Reason = reason,
            Message = message,
            LastProbeTime = null,
            LastTransitionTime = previous?.Status == status && previous.LastTransitionTime is { } t ? t : TruncateToSeconds(now),
        };
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.Ticks - value.Ticks % TimeSpan.TicksPerSecond, value.Offset);

    private static string NotReadyMessage(List<ContainerStatus> statuses) =>
        string.Create(CultureInfo.InvariantCulture, $"containers with unready status: [{string.Join(" ", statuses.Where(s => s.Ready != true).Select(s => s.Name))}]");
}
