namespace Kubesharp.Kubelet.Volumes;

/// <summary>A pod's volume cannot be set up yet (a missing ConfigMap or Secret, a bad path); the pod waits and retries.</summary>
public sealed class VolumeSetupException(string message) : Exception(message);
