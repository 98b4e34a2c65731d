using Kubesharp.Cri.V1;

namespace Kubesharp.Cri;

/// <summary>The CRI image service: list, inspect, pull and remove images.</summary>
public interface IImageService
{
    Task<IReadOnlyList<Image>> ListImagesAsync(ImageFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>The image's status, or null when the runtime does not have it.</summary>
    Task<Image?> ImageStatusAsync(ImageSpec image, CancellationToken cancellationToken = default);

    /// <summary>Pulls an image; returns the image reference (ID) the runtime resolved it to.</summary>
    Task<string> PullImageAsync(ImageSpec image, AuthConfig? auth = null, PodSandboxConfig? sandboxConfig = null, CancellationToken cancellationToken = default);

    Task RemoveImageAsync(ImageSpec image, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<FilesystemUsage>> ImageFsInfoAsync(CancellationToken cancellationToken = default);
}
