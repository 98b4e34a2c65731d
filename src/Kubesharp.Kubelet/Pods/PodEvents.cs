using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client.Events;

namespace Kubesharp.Kubelet.Pods;

/// <summary>
/// The events the node agent records about a pod and its containers, with upstream's reasons and messages, so
/// <c>kubectl describe pod</c> and <c>kubectl get events</c> tell what happened on the node. Repeats are
/// aggregated by the recorder (count and lastTimestamp), so a retry loop does not flood the API.
/// </summary>
internal sealed class PodEvents(EventRecorder? recorder)
{
    public void SandboxChanged(Pod pod) =>
        Pod(pod, EventType.Normal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");

    public void FailedCreatePodSandbox(Pod pod, string error) =>
        Pod(pod, EventType.Warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: " + error);

    public void FailedMount(Pod pod, string error) =>
        Pod(pod, EventType.Warning, "FailedMount", "MountVolume.SetUp failed: " + error);

    public void Pulling(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Normal, "Pulling", $"Pulling image \"{container.Image}\"");

    public void Pulled(Pod pod, Container container, bool init, TimeSpan took, ulong? size)
    {
        var seconds = took.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        var message = $"Successfully pulled image \"{container.Image}\" in {seconds} ({seconds} including waiting)."
            + (size is { } bytes ? string.Create(CultureInfo.InvariantCulture, $" Image size: {bytes} bytes.") : "");
        Container(pod, container, init, EventType.Normal, "Pulled", message);
    }

    public void AlreadyPresent(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Normal, "Pulled", $"Container image \"{container.Image}\" already present on machine");

    /// <summary>An image that could not be had: the cause (under its own reason), then the container's waiting reason as "Error: …".</summary>
    public void ImageFailed(Pod pod, Container container, bool init, ImagePullException error, bool backingOff)
    {
        var waitingReason = backingOff ? "ImagePullBackOff" : error.Reason;
        switch (waitingReason)
        {
            case "ErrImageNeverPull":
                Container(pod, container, init, EventType.Warning, "ErrImageNeverPull", error.Message);
                break;
            case "ImagePullBackOff":
                Container(pod, container, init, EventType.Normal, "BackOff", $"Back-off pulling image \"{container.Image}\"");
                break;
            default:
                Container(pod, container, init, EventType.Warning, "Failed",
                    error.RuntimeError is { } cause ? $"Failed to pull image \"{container.Image}\": {cause}" : error.Message);
                break;
        }

        Container(pod, container, init, EventType.Warning, "Failed", "Error: " + waitingReason);
    }

    public void Failed(Pod pod, Container container, bool init, string error) =>
        Container(pod, container, init, EventType.Warning, "Failed", "Error: " + error);

    public void Created(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Normal, "Created", "Created container: " + container.Name);

    public void Started(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Normal, "Started", "Started container " + container.Name);

    public void FailedPostStartHook(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Warning, "FailedPostStartHook", "PostStartHook failed");

    public void FailedPreStopHook(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Warning, "FailedPreStopHook", "PreStopHook failed");

    /// <summary>A failed probe of a running container (liveness, readiness or startup).</summary>
    public void Unhealthy(Pod pod, Container container, string probe, string message) =>
        Container(pod, container, false, EventType.Warning, "Unhealthy", $"{probe} probe failed: {message}");

    public void Killing(Pod pod, Container container, bool init, string message) =>
        Container(pod, container, init, EventType.Normal, "Killing", message);

    public void BackOff(Pod pod, Container container, bool init) =>
        Container(pod, container, init, EventType.Warning, "BackOff",
            $"Back-off restarting failed container {container.Name} in pod {pod.Metadata!.Name}_{pod.Metadata.Namespace}({pod.Metadata.Uid})");

    private void Pod(Pod pod, string type, string reason, string message) => recorder?.Record(pod, type, reason, message);

    private void Container(Pod pod, Container container, bool init, string type, string reason, string message) =>
        recorder?.Record(pod, (init ? "spec.initContainers{" : "spec.containers{") + container.Name + "}", type, reason, message);
}
