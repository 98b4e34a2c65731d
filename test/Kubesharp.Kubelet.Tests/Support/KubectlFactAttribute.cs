using Kubesharp.Cri.Tests.Support;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>A test that drives a real node with the kubectl binary; skipped when either is unavailable.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        // Under CI a missing prerequisite fails the test (it asserts the fixture has no skip reason) instead of skipping it.
        if (RuntimeFactAttribute.SkipReason() is { } reason && !RuntimeFactAttribute.MustRun)
        {
            Skip = reason;
        }
        else if (!Kubectl.Available)
        {
            Skip = "kubectl is not on PATH.";
        }
    }
}
