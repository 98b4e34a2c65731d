using Kubesharp.Cri;
using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Tests.Nodes;

/// <summary>A container runtime that answers only what a node's status asks: its version, and that it is ready.</summary>
internal sealed class ReadyRuntime : IRuntimeService
{
    public Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new VersionResponse { RuntimeName = "test", RuntimeVersion = "1.0", RuntimeApiVersion = "v1" });

    public Task<StatusResponse> StatusAsync(bool verbose = false, CancellationToken cancellationToken = default) =>
        Task.FromResult(new StatusResponse
        {
            Status = new RuntimeStatus
            {
                Conditions =
                {
                    new RuntimeCondition { Type = "RuntimeReady", Status = true },
                    new RuntimeCondition { Type = "NetworkReady", Status = true },
                },
            },
        });

    public Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler = "", CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<PodSandboxStatusResponse> PodSandboxStatusAsync(string podSandboxId, bool verbose = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<PodSandbox>> ListPodSandboxAsync(PodSandboxFilter? filter = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<string> CreateContainerAsync(string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task StopContainerAsync(string containerId, long timeoutSeconds, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<Container>> ListContainersAsync(ContainerFilter? filter = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerStatusResponse> ContainerStatusAsync(string containerId, bool verbose = false, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ExecSyncResponse> ExecSyncAsync(string containerId, IEnumerable<string> command, TimeSpan timeout, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ExecResponse> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<AttachResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<PortForwardResponse> PortForwardAsync(PortForwardRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<ContainerStats> ContainerStatsAsync(string containerId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<PodSandboxStats> PodSandboxStatsAsync(string podSandboxId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task UpdateRuntimeConfigAsync(RuntimeConfig runtimeConfig, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
