using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri.V1;

namespace Kubesharp.Cri;

/// <summary>The runtime.v1 RuntimeService as the agent calls it: the generated client with a deadline on every call.</summary>
public sealed class CriRuntimeClient : IRuntimeService
{
    /// <summary>The CRI API version this client speaks.</summary>
    public const string ApiVersion = "v1";

    private readonly RuntimeService.RuntimeServiceClient client;
    private readonly TimeSpan requestTimeout;

    /// <param name="channel">The runtime's channel; the client does not own it.</param>
    /// <param name="requestTimeout">Deadline for each call except ExecSync, which uses its own timeout; default 2 minutes.</param>
    public CriRuntimeClient(GrpcChannel channel, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        client = new RuntimeService.RuntimeServiceClient(channel);
        this.requestTimeout = requestTimeout ?? TimeSpan.FromMinutes(2);
    }

    public Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default) =>
        CallAsync(client.VersionAsync, new VersionRequest { Version = ApiVersion }, cancellationToken);

    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await CallAsync(
            client.RunPodSandboxAsync, new RunPodSandboxRequest { Config = config, RuntimeHandler = runtimeHandler ?? "" }, cancellationToken);
        return response.PodSandboxId;
    }

    public Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        CallAsync(client.StopPodSandboxAsync, new StopPodSandboxRequest { PodSandboxId = podSandboxId }, cancellationToken);

    public Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        CallAsync(client.RemovePodSandboxAsync, new RemovePodSandboxRequest { PodSandboxId = podSandboxId }, cancellationToken);

    public Task<PodSandboxStatusResponse> PodSandboxStatusAsync(string podSandboxId, bool verbose = false, CancellationToken cancellationToken = default) =>
        CallAsync(client.PodSandboxStatusAsync, new PodSandboxStatusRequest { PodSandboxId = podSandboxId, Verbose = verbose }, cancellationToken);

    public async Task<IReadOnlyList<PodSandbox>> ListPodSandboxAsync(PodSandboxFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ListPodSandboxAsync, new ListPodSandboxRequest { Filter = filter }, cancellationToken);
        return response.Items;
    }

    public async Task<string> CreateContainerAsync(
        string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await CallAsync(
            client.CreateContainerAsync,
            new CreateContainerRequest { PodSandboxId = podSandboxId, Config = config, SandboxConfig = sandboxConfig },
            cancellationToken);
        return response.ContainerId;
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        CallAsync(client.StartContainerAsync, new StartContainerRequest { ContainerId = containerId }, cancellationToken);

    public Task StopContainerAsync(string containerId, long timeoutSeconds, CancellationToken cancellationToken = default) =>
        CallAsync(
            client.StopContainerAsync,
            new StopContainerRequest { ContainerId = containerId, Timeout = timeoutSeconds },
            cancellationToken,
            requestTimeout + TimeSpan.FromSeconds(Math.Max(0, timeoutSeconds)));

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        CallAsync(client.RemoveContainerAsync, new RemoveContainerRequest { ContainerId = containerId }, cancellationToken);

    public async Task<IReadOnlyList<Container>> ListContainersAsync(ContainerFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ListContainersAsync, new ListContainersRequest { Filter = filter }, cancellationToken);
        return response.Containers;
    }

    public Task<ContainerStatusResponse> ContainerStatusAsync(string containerId, bool verbose = false, CancellationToken cancellationToken = default) =>
        CallAsync(client.ContainerStatusAsync, new ContainerStatusRequest { ContainerId = containerId, Verbose = verbose }, cancellationToken);

    public Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken = default) =>
        CallAsync(
            client.UpdateContainerResourcesAsync,
            new UpdateContainerResourcesRequest { ContainerId = containerId, Linux = resources },
            cancellationToken);

    public Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken = default) =>
        CallAsync(client.ReopenContainerLogAsync, new ReopenContainerLogRequest { ContainerId = containerId }, cancellationToken);

    public Task<ExecSyncResponse> ExecSyncAsync(string containerId, IEnumerable<string> command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var seconds = timeout <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(timeout.TotalSeconds);
        var request = new ExecSyncRequest { ContainerId = containerId, Timeout = seconds };
        request.Cmd.AddRange(command);

        // The runtime enforces the command's timeout; the call's deadline only adds slack for the round trip.
        TimeSpan? deadline = seconds == 0 ? null : requestTimeout + TimeSpan.FromSeconds(seconds);
        return CallAsync(client.ExecSyncAsync, request, cancellationToken, deadline);
    }

    public Task<ExecResponse> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client.ExecAsync, request, cancellationToken);

    public Task<AttachResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client.AttachAsync, request, cancellationToken);

    public Task<PortForwardResponse> PortForwardAsync(PortForwardRequest request, CancellationToken cancellationToken = default) =>
        CallAsync(client.PortForwardAsync, request, cancellationToken);

    public async Task<ContainerStats> ContainerStatsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ContainerStatsAsync, new ContainerStatsRequest { ContainerId = containerId }, cancellationToken);
        return response.Stats;
    }

    public async Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ListContainerStatsAsync, new ListContainerStatsRequest { Filter = filter }, cancellationToken);
        return response.Stats;
    }

    public async Task<PodSandboxStats> PodSandboxStatsAsync(string podSandboxId, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.PodSandboxStatsAsync, new PodSandboxStatsRequest { PodSandboxId = podSandboxId }, cancellationToken);
        return response.Stats;
    }

    public async Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ListPodSandboxStatsAsync, new ListPodSandboxStatsRequest { Filter = filter }, cancellationToken);
        return response.Stats;
    }

    public Task UpdateRuntimeConfigAsync(RuntimeConfig runtimeConfig, CancellationToken cancellationToken = default) =>
        CallAsync(client.UpdateRuntimeConfigAsync, new UpdateRuntimeConfigRequest { RuntimeConfig = runtimeConfig }, cancellationToken);

    public Task<StatusResponse> StatusAsync(bool verbose = false, CancellationToken cancellationToken = default) =>
        CallAsync(client.StatusAsync, new StatusRequest { Verbose = verbose }, cancellationToken);

    private async Task<TResponse> CallAsync<TRequest, TResponse>(
        Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> method, TRequest request, CancellationToken cancellationToken, TimeSpan? timeout = default)
    {
        return await method(request, new CallOptions(deadline: DateTime.UtcNow + (timeout ?? requestTimeout), cancellationToken: cancellationToken)).CompleteAsync(cancellationToken);
    }
}
