using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Tests.Support;

namespace Kubesharp.Kubelet.Tests.Devices;

/// <summary>
/// A device plugin test on a real node (root, containerd, kubectl). Skipped when those are missing, except under
/// CI=true, where the test runs and fails on the missing prerequisite instead.
/// </summary>
public sealed class DevicePluginFactAttribute : FactAttribute
{
    public DevicePluginFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            return;
        }

        Skip = RuntimeFactAttribute.MustRun ? null : RuntimeFactAttribute.SkipReason() ?? (Kubectl.Available ? null : "kubectl is not on PATH.");
    }
}
