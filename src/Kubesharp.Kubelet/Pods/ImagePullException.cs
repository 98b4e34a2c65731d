namespace Kubesharp.Kubelet.Pods;

/// <summary>An image could not be made available; <see cref="Reason"/> is the container's waiting reason.</summary>
public sealed class ImagePullException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
