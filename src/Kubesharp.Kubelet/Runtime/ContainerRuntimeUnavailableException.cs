namespace Kubesharp.Kubelet.Runtime;

/// <summary>The container runtime could not be started or reached.</summary>
public sealed class ContainerRuntimeUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
