using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri.V1;

namespace Kubesharp.Cri;

/// <summary>The runtime.v1 RuntimeService as the agent calls it: each call on the channel's own invoker (see <see cref="UnaryMethod"/>), with a deadline.</summary>
public sealed class CriRuntimeClient : IRuntimeService
{
    /// <summary>The CRI API version this client speaks.</summary>
    public const string ApiVersion = "v1";

    private const string Service = "runtime.v1.RuntimeService";
    private static readonly Method<VersionRequest, VersionResponse> VersionMethod = UnaryMethod.Create(Service, "Version", VersionRequest.Parser, VersionResponse.Parser);
    private static readonly Method<RunPodSandboxRequest, RunPodSandboxResponse> RunPodSandboxMethod =
        UnaryMethod.Create(Service, "RunPodSandbox", RunPodSandboxRequest.Parser, RunPodSandboxResponse.Parser);
    private static readonly Method<StopPodSandboxRequest, StopPodSandboxResponse> StopPodSandboxMethod =
        UnaryMethod.Create(Service, "StopPodSandbox", StopPodSandboxRequest.Parser, StopPodSandboxResponse.Parser);
    private static readonly Method<RemovePodSandboxRequest, RemovePodSandboxResponse> RemovePodSandboxMethod =
        UnaryMethod.Create(Service, "RemovePodSandbox", RemovePodSandboxRequest.Parser, RemovePodSandboxResponse.Parser);
    private static readonly Method<PodSandboxStatusRequest, PodSandboxStatusResponse> PodSandboxStatusMethod =
        UnaryMethod.Create(Service, "PodSandboxStatus", PodSandboxStatusRequest.Parser, PodSandboxStatusResponse.Parser);
    private static readonly Method<ListPodSandboxRequest, ListPodSandboxResponse> ListPodSandboxMethod =
        UnaryMethod.Create(Service, "ListPodSandbox", ListPodSandboxRequest.Parser, ListPodSandboxResponse.Parser);
    private static readonly Method<CreateContainerRequest, CreateContainerResponse> CreateContainerMethod =
        UnaryMethod.Create(Service, "CreateContainer", CreateContainerRequest.Parser, CreateContainerResponse.Parser);
    private static readonly Method<StartContainerRequest, StartContainerResponse> StartContainerMethod =
        UnaryMethod.Create(Service, "StartContainer", StartContainerRequest.Parser, StartContainerResponse.Parser);
    private static readonly Method<StopContainerRequest, StopContainerResponse> StopContainerMethod =
        UnaryMethod.Create(Service, "StopContainer", StopContainerRequest.Parser, StopContainerResponse.Parser);
    private static readonly Method<RemoveContainerRequest, RemoveContainerResponse> RemoveContainerMethod =
        UnaryMethod.Create(Service, "RemoveContainer", RemoveContainerRequest.Parser, RemoveContainerResponse.Parser);
    private static readonly Method<ListContainersRequest, ListContainersResponse> ListContainersMethod =
        UnaryMethod.Create(Service, "ListContainers", ListContainersRequest.Parser, ListContainersResponse.Parser);
    private static readonly Method<ContainerStatusRequest, ContainerStatusResponse> ContainerStatusMethod =
        UnaryMethod.Create(Service, "ContainerStatus", ContainerStatusRequest.Parser, ContainerStatusResponse.Parser);
    private static readonly Method<UpdateContainerResourcesRequest, UpdateContainerResourcesResponse> UpdateContainerResourcesMethod =
        UnaryMethod.Create(Service, "UpdateContainerResources", UpdateContainerResourcesRequest.Parser, UpdateContainerResourcesResponse.Parser);
    private static readonly Method<ReopenContainerLogRequest, ReopenContainerLogResponse> ReopenContainerLogMethod =
        UnaryMethod.Create(Service, "ReopenContainerLog", ReopenContainerLogRequest.Parser, ReopenContainerLogResponse.Parser);
    private static readonly Method<ExecSyncRequest, ExecSyncResponse> ExecSyncMethod =
        UnaryMethod.Create(Service, "ExecSync", ExecSyncRequest.Parser, ExecSyncResponse.Parser);
    private static readonly Method<ExecRequest, ExecResponse> ExecMethod = UnaryMethod.Create(Service, "Exec", ExecRequest.Parser, ExecResponse.Parser);
    private static readonly Method<AttachRequest, AttachResponse> AttachMethod = UnaryMethod.Create(Service, "Attach", AttachRequest.Parser, AttachResponse.Parser);
    private static readonly Method<PortForwardRequest, PortForwardResponse> PortForwardMethod =
        UnaryMethod.Create(Service, "PortForward", PortForwardRequest.Parser, PortForwardResponse.Parser);
    private static readonly Method<ContainerStatsRequest, ContainerStatsResponse> ContainerStatsMethod =
        UnaryMethod.Create(Service, "ContainerStats", ContainerStatsRequest.Parser, ContainerStatsResponse.Parser);
    private static readonly Method<ListContainerStatsRequest, ListContainerStatsResponse> ListContainerStatsMethod =
        UnaryMethod.Create(Service, "ListContainerStats", ListContainerStatsRequest.Parser, ListContainerStatsResponse.Parser);
    private static readonly Method<PodSandboxStatsRequest, PodSandboxStatsResponse> PodSandboxStatsMethod =
        UnaryMethod.Create(Service, "PodSandboxStats", PodSandboxStatsRequest.Parser, PodSandboxStatsResponse.Parser);
    private static readonly Method<ListPodSandboxStatsRequest, ListPodSandboxStatsResponse> ListPodSandboxStatsMethod =
        UnaryMethod.Create(Service, "ListPodSandboxStats", ListPodSandboxStatsRequest.Parser, ListPodSandboxStatsResponse.Parser);
    private static readonly Method<UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse> UpdateRuntimeConfigMethod =
        UnaryMethod.Create(Service, "UpdateRuntimeConfig", UpdateRuntimeConfigRequest.Parser, UpdateRuntimeConfigResponse.Parser);
    private static readonly Method<StatusRequest, StatusResponse> StatusMethod = UnaryMethod.Create(Service, "Status", StatusRequest.Parser, StatusResponse.Parser);

    private readonly CallInvoker invoker;
    private readonly TimeSpan requestTimeout;

    /// <param name="channel">The runtime's channel; the client does not own it.</param>
    /// <param name="requestTimeout">Deadline for each call except ExecSync, which uses its own timeout; default 2 minutes.</param>
    public CriRuntimeClient(GrpcChannel channel, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        invoker = channel.CreateCallInvoker();
        this.requestTimeout = requestTimeout ?? TimeSpan.FromMinutes(2);
    }

    public Task<VersionResponse> VersionAsync(CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(VersionMethod, null, Options(cancellationToken), new VersionRequest { Version = ApiVersion })
            .CompleteAsync(cancellationToken);

    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await invoker.AsyncUnaryCall(RunPodSandboxMethod, null, Options(cancellationToken), new RunPodSandboxRequest { Config = config, RuntimeHandler = runtimeHandler ?? "" })
            .CompleteAsync(cancellationToken);
        return response.PodSandboxId;
    }

    public Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(StopPodSandboxMethod, null, Options(cancellationToken), new StopPodSandboxRequest { PodSandboxId = podSandboxId })
            .CompleteAsync(cancellationToken);

    public Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(RemovePodSandboxMethod, null, Options(cancellationToken), new RemovePodSandboxRequest { PodSandboxId = podSandboxId })
            .CompleteAsync(cancellationToken);

    public Task<PodSandboxStatusResponse> PodSandboxStatusAsync(string podSandboxId, bool verbose = false, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(PodSandboxStatusMethod, null, Options(cancellationToken), new PodSandboxStatusRequest { PodSandboxId = podSandboxId, Verbose = verbose })
            .CompleteAsync(cancellationToken);

    public async Task<IReadOnlyList<PodSandbox>> ListPodSandboxAsync(PodSandboxFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ListPodSandboxMethod, null, Options(cancellationToken), new ListPodSandboxRequest { Filter = filter })
            .CompleteAsync(cancellationToken);
        return response.Items;
    }

    public async Task<string> CreateContainerAsync(
        string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var response = await invoker.AsyncUnaryCall(CreateContainerMethod, null, Options(cancellationToken), new CreateContainerRequest { PodSandboxId = podSandboxId, Config = config, SandboxConfig = sandboxConfig })
            .CompleteAsync(cancellationToken);
        return response.ContainerId;
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(StartContainerMethod, null, Options(cancellationToken), new StartContainerRequest { ContainerId = containerId })
            .CompleteAsync(cancellationToken);

    public Task StopContainerAsync(string containerId, long timeoutSeconds, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(StopContainerMethod, null, Options(cancellationToken, requestTimeout + TimeSpan.FromSeconds(Math.Max(0, timeoutSeconds))), new StopContainerRequest { ContainerId = containerId, Timeout = timeoutSeconds })
            .CompleteAsync(cancellationToken);

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(RemoveContainerMethod, null, Options(cancellationToken), new RemoveContainerRequest { ContainerId = containerId })
            .CompleteAsync(cancellationToken);

    public async Task<IReadOnlyList<Container>> ListContainersAsync(ContainerFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ListContainersMethod, null, Options(cancellationToken), new ListContainersRequest { Filter = filter })
            .CompleteAsync(cancellationToken);
        return response.Containers;
    }

    public Task<ContainerStatusResponse> ContainerStatusAsync(string containerId, bool verbose = false, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(ContainerStatusMethod, null, Options(cancellationToken), new ContainerStatusRequest { ContainerId = containerId, Verbose = verbose })
            .CompleteAsync(cancellationToken);

    public Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(UpdateContainerResourcesMethod, null, Options(cancellationToken), new UpdateContainerResourcesRequest { ContainerId = containerId, Linux = resources })
            .CompleteAsync(cancellationToken);

    public Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(ReopenContainerLogMethod, null, Options(cancellationToken), new ReopenContainerLogRequest { ContainerId = containerId })
            .CompleteAsync(cancellationToken);

    public Task<ExecSyncResponse> ExecSyncAsync(string containerId, IEnumerable<string> command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var seconds = timeout <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(timeout.TotalSeconds);
        var request = new ExecSyncRequest { ContainerId = containerId, Timeout = seconds };
        request.Cmd.AddRange(command);

        // The runtime enforces the command's timeout; the call's deadline only adds slack for the round trip.
        TimeSpan? deadline = seconds == 0 ? null : requestTimeout + TimeSpan.FromSeconds(seconds);
        return invoker.AsyncUnaryCall(ExecSyncMethod, null, Options(cancellationToken, deadline), request).CompleteAsync(cancellationToken);
    }

    public Task<ExecResponse> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(ExecMethod, null, Options(cancellationToken), request).CompleteAsync(cancellationToken);

    public Task<AttachResponse> AttachAsync(AttachRequest request, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(AttachMethod, null, Options(cancellationToken), request).CompleteAsync(cancellationToken);

    public Task<PortForwardResponse> PortForwardAsync(PortForwardRequest request, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(PortForwardMethod, null, Options(cancellationToken), request).CompleteAsync(cancellationToken);

    public async Task<ContainerStats> ContainerStatsAsync(string containerId, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ContainerStatsMethod, null, Options(cancellationToken), new ContainerStatsRequest { ContainerId = containerId })
            .CompleteAsync(cancellationToken);
        return response.Stats;
    }

    public async Task<IReadOnlyList<ContainerStats>> ListContainerStatsAsync(ContainerStatsFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ListContainerStatsMethod, null, Options(cancellationToken), new ListContainerStatsRequest { Filter = filter })
            .CompleteAsync(cancellationToken);
        return response.Stats;
    }

    public async Task<PodSandboxStats> PodSandboxStatsAsync(string podSandboxId, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(PodSandboxStatsMethod, null, Options(cancellationToken), new PodSandboxStatsRequest { PodSandboxId = podSandboxId })
            .CompleteAsync(cancellationToken);
        return response.Stats;
    }

    public async Task<IReadOnlyList<PodSandboxStats>> ListPodSandboxStatsAsync(PodSandboxStatsFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ListPodSandboxStatsMethod, null, Options(cancellationToken), new ListPodSandboxStatsRequest { Filter = filter })
            .CompleteAsync(cancellationToken);
        return response.Stats;
    }

    public Task UpdateRuntimeConfigAsync(RuntimeConfig runtimeConfig, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(UpdateRuntimeConfigMethod, null, Options(cancellationToken), new UpdateRuntimeConfigRequest { RuntimeConfig = runtimeConfig })
            .CompleteAsync(cancellationToken);

    public Task<StatusResponse> StatusAsync(bool verbose = false, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(StatusMethod, null, Options(cancellationToken), new StatusRequest { Verbose = verbose })
            .CompleteAsync(cancellationToken);

    private CallOptions Options(CancellationToken cancellationToken, TimeSpan? timeout = default) =>
        new(deadline: DateTime.UtcNow + (timeout ?? requestTimeout), cancellationToken: cancellationToken);
}
