using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri.V1;

namespace Kubesharp.Cri;

/// <summary>The runtime.v1 ImageService as the agent calls it: each call on the channel's own invoker (see <see cref="UnaryMethod"/>), with a deadline.</summary>
public sealed class CriImageClient : IImageService
{
    private const string Service = "runtime.v1.ImageService";
    private static readonly Method<ListImagesRequest, ListImagesResponse> ListImagesMethod =
        UnaryMethod.Create(Service, "ListImages", ListImagesRequest.Parser, ListImagesResponse.Parser);
    private static readonly Method<ImageStatusRequest, ImageStatusResponse> ImageStatusMethod =
        UnaryMethod.Create(Service, "ImageStatus", ImageStatusRequest.Parser, ImageStatusResponse.Parser);
    private static readonly Method<PullImageRequest, PullImageResponse> PullImageMethod =
        UnaryMethod.Create(Service, "PullImage", PullImageRequest.Parser, PullImageResponse.Parser);
    private static readonly Method<RemoveImageRequest, RemoveImageResponse> RemoveImageMethod =
        UnaryMethod.Create(Service, "RemoveImage", RemoveImageRequest.Parser, RemoveImageResponse.Parser);
    private static readonly Method<ImageFsInfoRequest, ImageFsInfoResponse> ImageFsInfoMethod =
        UnaryMethod.Create(Service, "ImageFsInfo", ImageFsInfoRequest.Parser, ImageFsInfoResponse.Parser);

    private readonly CallInvoker invoker;
    private readonly TimeSpan requestTimeout;

    /// <param name="channel">The runtime's channel; the client does not own it.</param>
    /// <param name="requestTimeout">Deadline for each call except PullImage, which has none (pulls can be long); default 2 minutes.</param>
    public CriImageClient(GrpcChannel channel, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        invoker = channel.CreateCallInvoker();
        this.requestTimeout = requestTimeout ?? TimeSpan.FromMinutes(2);
    }

    public async Task<IReadOnlyList<Image>> ListImagesAsync(ImageFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ListImagesMethod, null, Options(requestTimeout, cancellationToken), new ListImagesRequest { Filter = filter })
            .CompleteAsync(cancellationToken);
        return response.Images;
    }

    public async Task<Image?> ImageStatusAsync(ImageSpec image, CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ImageStatusMethod, null, Options(requestTimeout, cancellationToken), new ImageStatusRequest { Image = image })
            .CompleteAsync(cancellationToken);
        return response.Image;
    }

    public async Task<string> PullImageAsync(
        ImageSpec image, AuthConfig? auth = null, PodSandboxConfig? sandboxConfig = null, CancellationToken cancellationToken = default)
    {
        var request = new PullImageRequest { Image = image, Auth = auth, SandboxConfig = sandboxConfig };
        var response = await invoker.AsyncUnaryCall(PullImageMethod, null, Options(timeout: null, cancellationToken), request).CompleteAsync(cancellationToken);
        return response.ImageRef;
    }

    public Task RemoveImageAsync(ImageSpec image, CancellationToken cancellationToken = default) =>
        invoker.AsyncUnaryCall(RemoveImageMethod, null, Options(requestTimeout, cancellationToken), new RemoveImageRequest { Image = image })
            .CompleteAsync(cancellationToken);

    public async Task<IReadOnlyList<FilesystemUsage>> ImageFsInfoAsync(CancellationToken cancellationToken = default)
    {
        var response = await invoker.AsyncUnaryCall(ImageFsInfoMethod, null, Options(requestTimeout, cancellationToken), new ImageFsInfoRequest())
            .CompleteAsync(cancellationToken);
        return response.ImageFilesystems;
    }

    private static CallOptions Options(TimeSpan? timeout, CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
}
