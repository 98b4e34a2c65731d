using Google.Protobuf;
using Kubesharp.Cri.V1;
using Kubesharp.Grpc;

namespace Kubesharp.Cri;

/// <summary>A runtime.v1 RuntimeService client over a gRPC channel (normally the runtime's unix socket).</summary>
public sealed class CriRuntimeClient : IRuntimeService
{
    /// <summary>The CRI API version this client speaks.</summary>
    public const string ApiVersion = "v1";

    private readonly GrpcChannel channel;
    private readonly TimeSpan requestTimeout;

    /// <param name="channel">The runtime's channel; the client does not own it.</param>
    /// <param name="requestTimeout">Deadline for each call except ExecSync, which uses its own timeout; default 2 minutes.</param>
    public CriRuntimeClient(GrpcChannel channel, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        this.channel = channel;
        this.requestTimeout = requestTimeout ?? TimeSpan.FromMinutes(2);
    }

    public Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.Version, new VersionRequest { Version = ApiVersion }, cancellationToken);

    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await CallAsync(
            CriMethods.RunPodSandbox, new RunPodSandboxRequest { Config = config, RuntimeHandler = runtimeHandler ?? "" }, cancellationToken);
        return response.PodSandboxId;
    }

    public Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.StopPodSandbox, new StopPodSandboxRequest { PodSandboxId = podSandboxId }, cancellationToken);

    public Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.RemovePodSandbox, new RemovePodSandboxRequest { PodSandboxId = podSandboxId }, cancellationToken);

    public Task<PodSandboxStatusResponse> PodSandboxStatusAsync(string podSandboxId, bool verbose = false, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.PodSandboxStatus, new PodSandboxStatusRequest { PodSandboxId = podSandboxId, Verbose = verbose }, cancellationToken);

    public async Task<IReadOnlyList<PodSandbox>> ListPodSandboxAsync(PodSandboxFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ListPodSandbox, new ListPodSandboxRequest { Filter = filter }, cancellationToken);
        return response.Items;
    }

    public async Task<string> CreateContainerAsync(
        string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await CallAsync(
            CriMethods.CreateContainer,
            new CreateContainerRequest { PodSandboxId = podSandboxId, Config = config, SandboxConfig = sandboxConfig },
            cancellationToken);
        return response.ContainerId;
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.StartContainer, new StartContainerRequest { ContainerId = containerId }, cancellationToken);

    public Task StopContainerAsync(string containerId, long timeoutSeconds, CancellationToken cancellationToken = default) =>
        CallAsync(
            CriMethods.StopContainer,
            new StopContainerRequest { ContainerId = containerId, Timeout = timeoutSeconds },
            cancellationToken,
            requestTimeout + TimeSpan.FromSeconds(Math.Max(0, timeoutSeconds)));

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.RemoveContainer, new RemoveContainerRequest { ContainerId = containerId }, cancellationToken);

    public async Task<IReadOnlyList<Container>> ListContainersAsync(ContainerFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ListContainers, new ListContainersRequest { Filter = filter }, cancellationToken);
        return response.Containers;
    }

    public Task<ContainerStatusResponse> ContainerStatusAsync(string containerId, bool verbose = false, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.ContainerStatus, new ContainerStatusRequest { ContainerId = containerId, Verbose = verbose }, cancellationToken);

    public Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken = default) =>
        CallAsync(
            CriMethods.UpdateContainerResources,
            new UpdateContainerResourcesRequest { ContainerId = containerId, Linux = resources },
            cancellationToken);

    public Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.ReopenContainerLog, new ReopenContainerLogRequest { ContainerId = containerId }, cancellationToken);

    public Task<ExecSyncResponse> ExecSyncAsync(string containerId, IEnumerable<string> command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var seconds = timeout <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(timeout.TotalSeconds);
        var request = new ExecSyncRequest { ContainerId = containerId, Timeout = seconds };
        request.Cmd.AddRange(command);

        // The runtime enforces the command's timeout; the call's deadline only adds slack for the round trip.
        TimeSpan? deadline = seconds == 0 ? null : requestTimeout + TimeSpan.FromSeconds(seconds);
        return CallAsync(CriMethods.ExecSync, request, cancellationToken, deadline);
    }

    public Task<ExecResponse> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.Exec, request, cancellationToken);

    public Task<AttachResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.Attach, request, cancellationToken);

    public Task<PortForwardResponse> PortForwardAsync(PortForwardRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.PortForward, request, cancellationToken);

    public async Task<ContainerStats> ContainerStatsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ContainerStats, new ContainerStatsRequest { ContainerId = containerId }, cancellationToken);
        return response.Stats;
    }

    public async Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ListContainerStats, new ListContainerStatsRequest { Filter = filter }, cancellationToken);
        return response.Stats;
    }

    public async Task<PodSandboxStats> PodSandboxStatsAsync(string podSandboxId, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.PodSandboxStats, new PodSandboxStatsRequest { PodSandboxId = podSandboxId }, cancellationToken);
        return response.Stats;
    }

    public async Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ListPodSandboxStats, new ListPodSandboxStatsRequest { Filter = filter }, cancellationToken);
        return response.Stats;
    }

    public Task UpdateRuntimeConfigAsync(RuntimeConfig runtimeConfig, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.UpdateRuntimeConfig, new UpdateRuntimeConfigRequest { RuntimeConfig = runtimeConfig }, cancellationToken);

    public Task<StatusResponse> StatusAsync(bool verbose = false, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.Status, new StatusRequest { Verbose = verbose }, cancellationToken);

    private Task<TResponse> CallAsync<TRequest, TResponse>(
        Method<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken, TimeSpan? timeout = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        channel.UnaryAsync(method, request, new CallOptions { Timeout = timeout ?? requestTimeout }, cancellationToken);
}
