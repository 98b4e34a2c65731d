using Kubesharp.Cri.V1;
using Kubesharp.Grpc;

namespace Kubesharp.Cri;

/// <summary>Method descriptors of the runtime.v1 RuntimeService and ImageService.</summary>
internal static class CriMethods
{
    public static readonly Method<VersionRequest, VersionResponse> Version = new("/runtime.v1.RuntimeService/Version", VersionResponse.Parser);

    public static readonly Method<RunPodSandboxRequest, RunPodSandboxResponse> RunPodSandbox = new("/runtime.v1.RuntimeService/RunPodSandbox", RunPodSandboxResponse.Parser);

    public static readonly Method<StopPodSandboxRequest, StopPodSandboxResponse> StopPodSandbox = new("/runtime.v1.RuntimeService/StopPodSandbox", StopPodSandboxResponse.Parser);

    public static readonly Method<RemovePodSandboxRequest, RemovePodSandboxResponse> RemovePodSandbox = new("/runtime.v1.RuntimeService/RemovePodSandbox", RemovePodSandboxResponse.Parser);

    public static readonly Method<PodSandboxStatusRequest, PodSandboxStatusResponse> PodSandboxStatus = new("/runtime.v1.RuntimeService/PodSandboxStatus", PodSandboxStatusResponse.Parser);

    public static readonly Method<ListPodSandboxRequest, ListPodSandboxResponse> ListPodSandbox = new("/runtime.v1.RuntimeService/ListPodSandbox", ListPodSandboxResponse.Parser);

    public static readonly Method<CreateContainerRequest, CreateContainerResponse> CreateContainer = new("/runtime.v1.RuntimeService/CreateContainer", CreateContainerResponse.Parser);

    public static readonly Method<StartContainerRequest, StartContainerResponse> StartContainer = new("/runtime.v1.RuntimeService/StartContainer", StartContainerResponse.Parser);

    public static readonly Method<StopContainerRequest, StopContainerResponse> StopContainer = new("/runtime.v1.RuntimeService/StopContainer", StopContainerResponse.Parser);

    public static readonly Method<RemoveContainerRequest, RemoveContainerResponse> RemoveContainer = new("/runtime.v1.RuntimeService/RemoveContainer", RemoveContainerResponse.Parser);

    public static readonly Method<ListContainersRequest, ListContainersResponse> ListContainers = new("/runtime.v1.RuntimeService/ListContainers", ListContainersResponse.Parser);

    public static readonly Method<ContainerStatusRequest, ContainerStatusResponse> ContainerStatus = new("/runtime.v1.RuntimeService/ContainerStatus", ContainerStatusResponse.Parser);

    public static readonly Method<UpdateContainerResourcesRequest, UpdateContainerResourcesResponse> UpdateContainerResources = new("/runtime.v1.RuntimeService/UpdateContainerResources", UpdateContainerResourcesResponse.Parser);

    public static readonly Method<ReopenContainerLogRequest, ReopenContainerLogResponse> ReopenContainerLog = new("/runtime.v1.RuntimeService/ReopenContainerLog", ReopenContainerLogResponse.Parser);

    public static readonly Method<ExecSyncRequest, ExecSyncResponse> ExecSync = new("/runtime.v1.RuntimeService/ExecSync", ExecSyncResponse.Parser);

    public static readonly Method<ExecRequest, ExecResponse> Exec = new("/runtime.v1.RuntimeService/Exec", ExecResponse.Parser);

    public static readonly Method<AttachRequest, AttachResponse> Attach = new("/runtime.v1.RuntimeService/Attach", AttachResponse.Parser);

    public static readonly Method<PortForwardRequest, PortForwardResponse> PortForward = new("/runtime.v1.RuntimeService/PortForward", PortForwardResponse.Parser);

    public static readonly Method<ContainerStatsRequest, ContainerStatsResponse> ContainerStats = new("/runtime.v1.RuntimeService/ContainerStats", ContainerStatsResponse.Parser);

    public static readonly Method<ListContainerStatsRequest, ListContainerStatsResponse> ListContainerStats = new("/runtime.v1.RuntimeService/ListContainerStats", ListContainerStatsResponse.Parser);

    public static readonly Method<PodSandboxStatsRequest, PodSandboxStatsResponse> PodSandboxStats = new("/runtime.v1.RuntimeService/PodSandboxStats", PodSandboxStatsResponse.Parser);

    public static readonly Method<ListPodSandboxStatsRequest, ListPodSandboxStatsResponse> ListPodSandboxStats = new("/runtime.v1.RuntimeService/ListPodSandboxStats", ListPodSandboxStatsResponse.Parser);

    public static readonly Method<UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse> UpdateRuntimeConfig = new("/runtime.v1.RuntimeService/UpdateRuntimeConfig", UpdateRuntimeConfigResponse.Parser);

    public static readonly Method<StatusRequest, StatusResponse> Status = new("/runtime.v1.RuntimeService/Status", StatusResponse.Parser);

    public static readonly Method<ListImagesRequest, ListImagesResponse> ListImages = new("/runtime.v1.ImageService/ListImages", ListImagesResponse.Parser);

    public static readonly Method<ImageStatusRequest, ImageStatusResponse> ImageStatus = new("/runtime.v1.ImageService/ImageStatus", ImageStatusResponse.Parser);

    public static readonly Method<PullImageRequest, PullImageResponse> PullImage = new("/runtime.v1.ImageService/PullImage", PullImageResponse.Parser);

    public static readonly Method<RemoveImageRequest, RemoveImageResponse> RemoveImage = new("/runtime.v1.ImageService/RemoveImage", RemoveImageResponse.Parser);

    public static readonly Method<ImageFsInfoRequest, ImageFsInfoResponse> ImageFsInfo = new("/runtime.v1.ImageService/ImageFsInfo", ImageFsInfoResponse.Parser);
}
