using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Devices;
using Plugin = Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Tests.Devices;

/// <summary>What device plugins answer to Allocate goes into the container's CRI configuration.</summary>
public sealed class DeviceContainerConfigTests
{
    [Fact]
    public void Apply_AllocateResponses_EnvMountsDevicesAnnotationsAndCdiNamesReachTheContainerConfig()
    {
        var config = new ContainerConfig();
        config.Envs.Add(new KeyValue { Key = "VISIBLE_DEVICES", Value = "from-the-pod-spec" });
        config.Envs.Add(new KeyValue { Key = "KEEP", Value = "1" });
        var gpu = new Plugin.ContainerAllocateResponse
        {
            Envs = { ["VISIBLE_DEVICES"] = "gpu-0,gpu-1" },
            Mounts = { new Plugin.Mount { ContainerPath = "/usr/lib/vendor", HostPath = "/opt/vendor/lib", ReadOnly = true } },
            Devices = { new Plugin.DeviceSpec { ContainerPath = "/dev/gpu0", HostPath = "/dev/vendor0", Permissions = "rw" } },
            Annotations = { ["vendor.example/gpus"] = "gpu-0,gpu-1" },
            CdiDevices = { new Plugin.CDIDevice { Name = "vendor.example/gpu=gpu-0" }, new Plugin.CDIDevice { Name = "vendor.example/gpu=gpu-1" } },
        };
        var nic = new Plugin.ContainerAllocateResponse { CdiDevices = { new Plugin.CDIDevice { Name = "vendor.example/nic=vf3" } } };

        DeviceContainerConfig.Apply(config, [
            new DeviceAssignment("pod-uid", "main", "vendor.example/gpu", ["gpu-0", "gpu-1"], gpu),
            new DeviceAssignment("pod-uid", "main", "vendor.example/nic", ["vf3"], nic),
        ]);

        // The plugin's variable replaces the pod spec's; others stay.
        Assert.Equal(["KEEP=1", "VISIBLE_DEVICES=gpu-0,gpu-1"], config.Envs.Select(e => e.Key + "=" + e.Value).Order(StringComparer.Ordinal));
        var mount = Assert.Single(config.Mounts);
        Assert.Equal(("/usr/lib/vendor", "/opt/vendor/lib", true), (mount.ContainerPath, mount.HostPath, mount.Readonly));
        var device = Assert.Single(config.Devices);
        Assert.Equal(("/dev/gpu0", "/dev/vendor0", "rw"), (device.ContainerPath, device.HostPath, device.Permissions));
        Assert.Equal("gpu-0,gpu-1", config.Annotations["vendor.example/gpus"]);
        Assert.Equal(["vendor.example/gpu=gpu-0", "vendor.example/gpu=gpu-1", "vendor.example/nic=vf3"], config.CDIDevices.Select(d => d.Name));
    }
}
