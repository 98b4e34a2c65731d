using Kubesharp.Cri.Tests.Support;

namespace Kubesharp.Kubelet.Tests.Support;

/// <summary>
/// A test that builds its own network namespaces (root, iproute2, iptables, python3 for the test's small servers);
/// skipped with the reason otherwise, except under CI=true, where the test itself fails on the reason.
/// </summary>
public sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        if (SkipReason() is { } reason && !RuntimeFactAttribute.MustRun)
        {
            Skip = reason;
        }
    }

    public static string? SkipReason()
    {
        if (Environment.UserName != "root")
        {
            return "Needs root to create network namespaces.";
        }

        foreach (var program in new[] { "ip", "bridge", "iptables", "iptables-restore", "python3" })
        {
            if (!OnPath(program))
            {
                return $"{program} is not on PATH; install iproute2, iptables and python3.";
            }
        }

        return null;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, program)));
}
