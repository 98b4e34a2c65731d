using Kubesharp.Cri.Tests.Support;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>Needs a real node plus the official Python client; under CI a missing client fails instead of skipping.</summary>
public sealed class OfficialClientFactAttribute : FactAttribute
{
    public OfficialClientFactAttribute()
    {
        if (RuntimeFactAttribute.SkipReason() is { } reason && !RuntimeFactAttribute.MustRun)
        {
            Skip = reason;
        }
        else if (!File.Exists("/usr/lib/python3/dist-packages/kubernetes/__init__.py") && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "python3-kubernetes is not installed.";
        }
    }
}
