using Kubesharp.Cri.V1;

namespace Kubesharp.Cri;

/// <summary>The CRI runtime service as the agent uses it: pod sandboxes, containers, streaming, stats.</summary>
public interface IRuntimeService
{
    Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates and starts a pod sandbox; returns its ID.</summary>
    Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler = "", CancellationToken cancellationToken = default);

    Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default);

    Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default);

    Task<PodSandboxStatusResponse> PodSandboxStatusAsync(string podSandboxId, bool verbose = false, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PodSandbox>> ListPodSandboxAsync(PodSandboxFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>Creates a container in a sandbox; returns its ID.</summary>
    Task<string> CreateContainerAsync(string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken = default);

    Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Stops a container: SIGTERM (or the image's stop signal), then SIGKILL after <paramref name="timeoutSeconds"/>.</summary>
    Task StopContainerAsync(string containerId, long timeoutSeconds, CancellationToken cancellationToken = default);

    Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Container>> ListContainersAsync(ContainerFilter? filter = null, CancellationToken cancellationToken = default);

    Task<ContainerStatusResponse> ContainerStatusAsync(string containerId, bool verbose = false, CancellationToken cancellationToken = default);

    Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken = default);

    Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken = default);

    /// <summary>Runs a command in a container and waits for it; a zero timeout means no limit.</summary>
    Task<ExecSyncResponse> ExecSyncAsync(string containerId, IEnumerable<string> command, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Returns the URL of the runtime's streaming server for this exec session.</summary>
    Task<ExecResponse> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default);

    Task<AttachResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken = default);

    Task<PortForwardResponse> PortForwardAsync(PortForwardRequest request, CancellationToken cancellationToken = default);

    Task<ContainerStats> ContainerStatsAsync(string containerId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter = null, CancellationToken cancellationToken = default);

    Task<PodSandboxStats> PodSandboxStatsAsync(string podSandboxId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter = null, CancellationToken cancellationToken = default);

    Task UpdateRuntimeConfigAsync(RuntimeConfig runtimeConfig, CancellationToken cancellationToken = default);

    Task<StatusResponse> StatusAsync(bool verbose = false, CancellationToken cancellationToken = default);
}
