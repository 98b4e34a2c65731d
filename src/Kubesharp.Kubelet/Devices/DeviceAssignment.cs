using Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>Devices of one resource held by one container, with what the plugin's Allocate answered for them.</summary>
internal sealed record DeviceAssignment(string PodUid, string ContainerName, string ResourceName, IReadOnlyList<string> DeviceIds, ContainerAllocateResponse Response);
