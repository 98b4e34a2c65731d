using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>
/// Applies registries.yaml's mirror rewrites, which containerd's hosts files cannot express: an image whose repository a
/// rule rewrites is pulled from each mirror endpoint in turn under the rewritten name, then named as the pod asked
/// (and the mirror's name dropped), as k3s does. When no endpoint has it, the ordinary pull runs (mirrors without the
/// rewrite, then the registry), so its error is the one the pod reports. Every other call goes straight through.
/// </summary>
internal sealed partial class MirrorRewriteImageService(
    IImageService inner, RegistriesConfiguration registries, ContainerdImageImporter names, TimeProvider timeProvider, ILogger logger) : IImageService
{
    private static readonly TimeSpan NameVisibleTimeout = TimeSpan.FromSeconds(30);

    public Task<IReadOnlyList<Image>> ListImagesAsync(ImageFilter? filter = null, CancellationToken cancellationToken = default) =>
        inner.ListImagesAsync(filter, cancellationToken);

    public Task<Image?> ImageStatusAsync(ImageSpec image, CancellationToken cancellationToken = default) =>
        inner.ImageStatusAsync(image, cancellationToken);

    public async Task<string> PullImageAsync(ImageSpec image, AuthConfig? auth = null, PodSandboxConfig? sandboxConfig = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var rewritten in registries.RewrittenReferences(image.Image))
        {
            string imageRef;
            try
            {
                imageRef = await inner.PullImageAsync(new ImageSpec { Image = rewritten, Annotations = { image.Annotations } }, auth, sandboxConfig, cancellationToken);
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode != Grpc.Core.StatusCode.Cancelled)
            {
                LogRewrittenPullFailed(logger, image.Image, rewritten, e.Status.Detail);
                continue;
            }

            var name = ImageReference.Parse(image.Image).ToString();
            await names.TagAsync(rewritten, name, cancellationToken);
            await WaitVisibleAsync(name, cancellationToken);
            try
            {
                await names.RemoveNameAsync(rewritten, cancellationToken);
            }
            catch (ImageImportException e)
            {
                LogRewrittenNameKept(logger, rewritten, e.Message);
            }

            LogPulledRewritten(logger, image.Image, rewritten);
            return imageRef;
        }

        return await inner.PullImageAsync(image, auth, sandboxConfig, cancellationToken);
    }

    public Task RemoveImageAsync(ImageSpec image, CancellationToken cancellationToken = default) => inner.RemoveImageAsync(image, cancellationToken);

    public Task<IReadOnlyList<FilesystemUsage>> ImageFsInfoAsync(CancellationToken cancellationToken = default) => inner.ImageFsInfoAsync(cancellationToken);

    // The CRI plugin learns of a new name from containerd's events, a moment after the name exists.
    private async Task WaitVisibleAsync(string name, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(NameVisibleTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        while (await inner.ImageStatusAsync(new ImageSpec { Image = name }, linked.Token) is null)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), timeProvider, linked.Token);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pulled {Image} from a mirror as {Rewritten}")]
    private static partial void LogPulledRewritten(ILogger logger, string image, string rewritten);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pulling {Image} from a mirror as {Rewritten} failed: {Reason}")]
    private static partial void LogRewrittenPullFailed(ILogger logger, string image, string rewritten, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not drop the mirror's name {Rewritten}: {Reason}")]
    private static partial void LogRewrittenNameKept(ILogger logger, string rewritten, string reason);
}
