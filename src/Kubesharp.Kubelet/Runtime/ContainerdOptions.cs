namespace Kubesharp.Kubelet.Runtime;

/// <summary>How the agent runs its own containerd.</summary>
public sealed class ContainerdOptions
{
    /// <summary>The agent's data directory; containerd's files live under "containerd/" in it.</summary>
    public required string DataDir { get; init; }

    public string ContainerdPath { get; init; } = "/usr/bin/containerd";

    /// <summary>containerd's import tool, used for loading image archives.</summary>
    public string CtrPath { get; init; } = "/usr/bin/ctr";

    /// <summary>Where the CNI plugins are (Debian's containernetworking-plugins installs them here).</summary>
    public string CniBinDir { get; init; } = "/usr/lib/cni";

    /// <summary>The sandbox image; it is built locally and imported at start, never pulled.</summary>
    public string SandboxImage { get; init; } = Images.OciImageBuilder.PauseImageName;

    public string BusyboxPath { get; init; } = Images.OciImageBuilder.DefaultBusyboxPath;

    /// <summary>Registries reached over plain HTTP ("host:port"), such as a registry on loopback.</summary>
    public IReadOnlyList<string> InsecureRegistries { get; init; } = ["127.0.0.1:5000", "localhost:5000"];

    /// <summary>A k3s-style registries.yaml (mirrors, credentials, TLS) for image pulls; null or a missing file is none.</summary>
    public string? RegistriesFile { get; init; }

    /// <summary>Use the systemd cgroup driver; only right when systemd manages cgroups on this machine.</summary>
    public bool SystemdCgroup { get; init; } = ContainerdLayout.SystemdIsInit();

    /// <summary>The OCI runtime binary; null uses runc from PATH.</summary>
    public string? RuncPath { get; init; }

    /// <summary>Keep containers' oom_score_adj at or above containerd's; null detects whether lowering it is allowed here.</summary>
    public bool? RestrictOomScoreAdj { get; init; }

    public string LogLevel { get; init; } = "info";

    /// <summary>How long to wait for a started containerd to answer CRI calls.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long containerd gets after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
