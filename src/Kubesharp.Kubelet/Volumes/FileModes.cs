namespace Kubesharp.Kubelet.Volumes;

/// <summary>Unix permission bits; the agent runs on Linux only, elsewhere these do nothing.</summary>
internal static class FileModes
{
    public static void Set(string path, int mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)mode);
        }
    }

    public static int Get(string path) => OperatingSystem.IsWindows() ? 0 : (int)File.GetUnixFileMode(path);
}
