using Grpc.Core;
using Grpc.Net.Client;
using Kubesharp.Cri.V1;

namespace Kubesharp.Cri;

/// <summary>The runtime.v1 ImageService as the agent calls it: the generated client with a deadline on each call.</summary>
public sealed class CriImageClient : IImageService
{
    private readonly ImageService.ImageServiceClient client;
    private readonly TimeSpan requestTimeout;

    /// <param name="channel">The runtime's channel; the client does not own it.</param>
    /// <param name="requestTimeout">Deadline for each call except PullImage, which has none (pulls can be long); default 2 minutes.</param>
    public CriImageClient(GrpcChannel channel, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        client = new ImageService.ImageServiceClient(channel);
        this.requestTimeout = requestTimeout ?? TimeSpan.FromMinutes(2);
    }

    public async Task<IReadOnlyList<Image>> ListImagesAsync(ImageFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ListImagesAsync, new ListImagesRequest { Filter = filter }, requestTimeout, cancellationToken);
        return response.Images;
    }

    public async Task<Image?> ImageStatusAsync(ImageSpec image, CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ImageStatusAsync, new ImageStatusRequest { Image = image }, requestTimeout, cancellationToken);
        return response.Image;
    }

    public async Task<string> PullImageAsync(
        ImageSpec image, AuthConfig? auth = null, PodSandboxConfig? sandboxConfig = null, CancellationToken cancellationToken = default)
    {
        var request = new PullImageRequest { Image = image, Auth = auth, SandboxConfig = sandboxConfig };
        var response = await CallAsync(client.PullImageAsync, request, timeout: null, cancellationToken);
        return response.ImageRef;
    }

    public Task RemoveImageAsync(ImageSpec image, CancellationToken cancellationToken = default) =>
        CallAsync(client.RemoveImageAsync, new RemoveImageRequest { Image = image }, requestTimeout, cancellationToken);

    public async Task<IReadOnlyList<FilesystemUsage>> ImageFsInfoAsync(CancellationToken cancellationToken = default)
    {
        var response = await CallAsync(client.ImageFsInfoAsync, new ImageFsInfoRequest(), requestTimeout, cancellationToken);
        return response.ImageFilesystems;
    }

    private static async Task<TResponse> CallAsync<TRequest, TResponse>(
        Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> method, TRequest request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        return await method(request, new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken)).CompleteAsync(cancellationToken);
    }
}
