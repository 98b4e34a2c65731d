namespace Kubesharp.Kubelet.Runtime;

/// <summary>The files and directories of an agent-run containerd, all under the agent's data directory.</summary>
public sealed class ContainerdLayout
{
    // sun_path holds 108 bytes including the terminator.
    private const int MaxSocketPath = 107;

    public ContainerdLayout(string dataDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        DataDir = Path.GetFullPath(dataDir);
        Directory = Path.Combine(DataDir, "containerd");
    }

    public string DataDir { get; }

    public string Directory { get; }

    public string ConfigFile => Path.Combine(Directory, "config.toml");

    public string Root => Path.Combine(Directory, "root");

    public string State => Path.Combine(Directory, "state");

    public string Socket => Path.Combine(Directory, "containerd.sock");

    public string TtrpcSocket => Path.Combine(Directory, "containerd.sock.ttrpc");

    public string Endpoint => "unix://" + Socket;

    public string LogFile => Path.Combine(Directory, "containerd.log");

    public string PidFile => Path.Combine(Directory, "containerd.pid");

    /// <summary>Per-registry hosts.toml files (containerd's registry config_path).</summary>
    public string RegistryConfigDir => Path.Combine(Directory, "certs.d");

    public string ImagesDir => Path.Combine(Directory, "images");

    /// <summary>Where the agent writes its CNI conflist; containerd's CRI plugin reads it from here.</summary>
    public string CniConfDir => Path.Combine(DataDir, "cni", "net.d");

    /// <summary>host-local IPAM allocations, kept with the agent's data rather than in /var/lib/cni.</summary>
    public string CniIpamDir => Path.Combine(DataDir, "cni", "ipam");

    public void EnsureSocketPathFits()
    {
        if (System.Text.Encoding.UTF8.GetByteCount(Socket) + ".ttrpc".Length > MaxSocketPath)
        {
            throw new InvalidOperationException(
                $"The data directory '{DataDir}' is too long for containerd's unix socket path; use a shorter --data-dir.");
        }
    }

    internal static bool SystemdIsInit()
    {
        try
        {
            return File.Exists("/proc/1/comm") && File.ReadAllText("/proc/1/comm").Trim() == "systemd"
                && System.IO.Directory.Exists("/run/systemd/system");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
