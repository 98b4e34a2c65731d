using Kubesharp.Cri.Tests.Support;
using Kubesharp.Cri.V1;

namespace Kubesharp.Cri.Tests;

[Collection(ContainerdCollection.Name)]
public sealed class CriImageClientTests(ContainerdFixture fixture)
{
    private static readonly CancellationToken Timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    [RuntimeFact]
    public async Task ListImagesAsync_ImportedImage_IsListedWithItsId()
    {
        var images = await fixture.Images.ListImagesAsync(cancellationToken: Timeout);

        var busybox = Assert.Single(images, i => i.RepoTags.Contains(ContainerdFixture.BusyboxImage));
        Assert.Equal(fixture.Busybox.Config.Digest, busybox.Id);
    }

    [RuntimeFact]
    public async Task PullImageAsync_FromLoopbackRegistry_ImageBecomesAvailableThenRemovable()
    {
        Assert.NotNull(fixture.Registry);
        using var http = new HttpClient();
        var image = Kubelet.Images.OciImageBuilder.Assemble($"{fixture.Registry.Host}/test/pushed:v1", fixture.Busybox.Layers[0], [], ["echo", "pulled"]);
        await OciRegistryPusher.PushAsync(http, fixture.Registry.BaseAddress, "test/pushed", "v1", image, Timeout);
        var spec = new ImageSpec { Image = image.Name };

        var imageRef = await fixture.Images.PullImageAsync(spec, cancellationToken: Timeout);
        var status = await fixture.Images.ImageStatusAsync(spec, Timeout);

        Assert.Equal(image.Config.Digest, imageRef);
        Assert.NotNull(status);
        Assert.Contains(image.Name, status.RepoTags);
        Assert.Contains($"{fixture.Registry.Host}/test/pushed@{image.Manifest.Digest}", status.RepoDigests);

        await fixture.Images.RemoveImageAsync(spec, Timeout);
        Assert.Null(await fixture.Images.ImageStatusAsync(spec, Timeout));
    }

    [RuntimeFact]
    public async Task ImageFsInfoAsync_Containerd_ReportsSnapshotterFilesystem()
    {
        var filesystems = await fixture.Images.ImageFsInfoAsync(Timeout);

        Assert.Contains(filesystems, f => f.FsId.Mountpoint.StartsWith(fixture.Root, StringComparison.Ordinal));
    }
}
