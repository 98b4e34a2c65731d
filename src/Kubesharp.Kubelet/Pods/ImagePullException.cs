namespace Kubesharp.Kubelet.Pods;

/// <summary>
/// An image could not be made available; <see cref="Reason"/> is the container's waiting reason and
/// <see cref="RuntimeError"/> what the runtime answered to the pull, when it was asked.
/// </summary>
public sealed class ImagePullException(string reason, string message, string? runtimeError = null) : Exception(message)
{
    public string Reason { get; } = reason;

    public string? RuntimeError { get; } = runtimeError;
}
