using Kubesharp.Cri.Tests.Support;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>A test that drives a real node with the kubectl binary; skipped when either is unavailable.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (RuntimeFactAttribute.SkipReason() is { } reason)
        {
            Skip = reason;
        }
        else if (!Kubectl.Available)
        {
            Skip = "kubectl is not on PATH.";
        }
    }
}
