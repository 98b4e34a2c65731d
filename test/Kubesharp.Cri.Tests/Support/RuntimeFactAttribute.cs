namespace Kubesharp.Cri.Tests.Support;

/// <summary>
/// A test that needs root and the real containerd; skipped with the reason otherwise, except under CI=true, where a
/// missing prerequisite must fail the test rather than hide it.
/// </summary>
public sealed class RuntimeFactAttribute : FactAttribute
{
    public RuntimeFactAttribute()
    {
        if (SkipReason() is { } reason && !MustRun)
        {
            Skip = reason;
        }
    }

    /// <summary>Under CI every test runs: a skipped test there is a test that did not run.</summary>
    public static bool MustRun => Environment.GetEnvironmentVariable("CI") == "true";

    public static string? SkipReason()
    {
        if (Environment.UserName != "root" && !IsRootUid())
        {
            return "Needs root to run containers (containerd, runc, CNI).";
        }

        foreach (var path in new[] { "/usr/bin/containerd", "/usr/bin/ctr", "/usr/lib/cni/bridge", "/bin/busybox" })
        {
            if (!File.Exists(path))
            {
                return $"{path} is missing; install containerd, runc, containernetworking-plugins and busybox-static.";
            }
        }

        return null;
    }

    private static bool IsRootUid()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";
            }
        }

        return false;
    }
}
