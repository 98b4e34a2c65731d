using Google.Protobuf;
using Kubesharp.Cri.V1;
using Kubesharp.Grpc;

namespace Kubesharp.Cri;

/// <summary>A runtime.v1 ImageService client over a gRPC channel.</summary>
public sealed class CriImageClient : IImageService
{
    private readonly GrpcChannel channel;
    private readonly TimeSpan requestTimeout;

    /// <param name="channel">The runtime's channel; the client does not own it.</param>
    /// <param name="requestTimeout">Deadline for each call except PullImage, which has none (pulls can be long); default 2 minutes.</param>
    public CriImageClient(GrpcChannel channel, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        this.channel = channel;
        this.requestTimeout = requestTimeout ?? TimeSpan.FromMinutes(2);
    }

    public async Task<IReadOnlyList<Image>> ListImagesAsync(ImageFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ListImages, new ListImagesRequest { Filter = filter }, requestTimeout, cancellationToken);
        return response.Images;
    }

    public async Task<Image?> ImageStatusAsync(ImageSpec image, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ImageStatus, new ImageStatusRequest { Image = image }, requestTimeout, cancellationToken);
        return response.Image;
    }

    public async Task<string> PullImageAsync(
        ImageSpec image, AuthConfig? auth = null, PodSandboxConfig? sandboxConfig = null, CancellationToken cancellationToken = default)
    {
        var request = new PullImageRequest { Image = image, Auth = auth, SandboxConfig = sandboxConfig };
        var response = await CallAsync(CriMethods.PullImage, request, timeout: null, cancellationToken);
        return response.ImageRef;
    }

    public Task RemoveImageAsync(ImageSpec image, CancellationToken cancellationToken = default) =>
        CallAsync(CriMethods.RemoveImage, new RemoveImageRequest { Image = image }, requestTimeout, cancellationToken);

    public async Task<IReadOnlyList<FilesystemUsage>> ImageFsInfoAsync(CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(CriMethods.ImageFsInfo, new ImageFsInfoRequest(), requestTimeout, cancellationToken);
        return response.ImageFilesystems;
    }

    private Task<TResponse> CallAsync<TRequest, TResponse>(
        Method<TRequest, TResponse> method, TRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        channel.UnaryAsync(method, request, new CallOptions { Timeout = timeout }, cancellationToken);
}
