using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>Puts what device plugins answered to Allocate into a container's CRI configuration.</summary>
internal static class DeviceContainerConfig
{
    public static void Apply(ContainerConfig config, IEnumerable<DeviceAssignment> assignments)
    {
        foreach (var response in assignments.Select(a => a.Response))
        {
            foreach (var (name, value) in response.Envs.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                // The plugin's value wins over a same-named variable of the pod spec.
                var existing = config.Envs.FirstOrDefault(e => e.Key == name);
                if (existing is not null)
                {
                    config.Envs.Remove(existing);
                }

                config.Envs.Add(new KeyValue { Key = name, Value = value });
            }

            foreach (var mount in response.Mounts)
            {
                config.Mounts.Add(new Mount { ContainerPath = mount.ContainerPath, HostPath = mount.HostPath, Readonly = mount.ReadOnly });
            }

            foreach (var device in response.Devices)
            {
                config.Devices.Add(new Device { ContainerPath = device.ContainerPath, HostPath = device.HostPath, Permissions = device.Permissions });
            }

            foreach (var (name, value) in response.Annotations)
            {
                config.Annotations[name] = value;
            }

            foreach (var cdi in response.CdiDevices)
            {
                config.CDIDevices.Add(new CDIDevice { Name = cdi.Name });
            }
        }
    }
}
