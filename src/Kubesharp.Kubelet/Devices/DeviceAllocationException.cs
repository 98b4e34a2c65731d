namespace Kubesharp.Kubelet.Devices;

/// <summary>A container's devices could not be allocated (too few healthy free devices, no plugin, plugin error).</summary>
internal sealed class DeviceAllocationException(string message, Exception? innerException = null) : Exception(message, innerException);
