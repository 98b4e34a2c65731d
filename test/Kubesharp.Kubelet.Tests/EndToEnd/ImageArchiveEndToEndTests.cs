using System.IO.Compression;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// Air-gap images on a real node: archives put into the node's images folder while it runs are imported into its
/// containerd (a plain and a gzip-compressed one), a pod runs one without any pull, and a later scan imports nothing again.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class ImageArchiveEndToEndTests(NodeFixture fixture)
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [RuntimeFact]
    public async Task ImagesFolder_ArchivesAdded_ImportedOnceAndUsableWithoutPull()
    {
        Assert.Null(fixture.SkipReason);
        var id = Guid.NewGuid().ToString("N")[..6];
        var plain = $"docker.io/kubesharp/airgap-{id}:plain";
        var compressed = $"docker.io/kubesharp/airgap-{id}:gzip";
        var folder = fixture.Options.ImagesDir;
        var supervisor = fixture.Agent.Runtime!.Supervisor!;
        var images = fixture.Agent.Runtime.Images;
        var archives = new[] { Path.Combine(folder, $"airgap-{id}.tar"), Path.Combine(folder, $"airgap-{id}.tar.gz") };
        var pod = $"airgap-{id}";
        try
        {
            // Written beside, then moved in whole, as a careful operator copies them.
            Directory.CreateDirectory(folder);
            var staging = Path.Combine(fixture.Root, $"airgap-{id}.tar");
            await OciImageBuilder.WriteOciArchiveAsync(staging, [await OciImageBuilder.BuildBusyboxAsync(plain, [], ["sh"])]);
            File.Move(staging, archives[0]);
            await OciImageBuilder.WriteOciArchiveAsync(staging, [await OciImageBuilder.BuildBusyboxAsync(compressed, [], ["sh"])]);
            await using (var source = File.OpenRead(staging))
            await using (var target = File.Create(staging + ".gz"))
            await using (var gzip = new GZipStream(target, CompressionLevel.Fastest))
            {
                await source.CopyToAsync(gzip);
            }

            File.Delete(staging);
            File.Move(staging + ".gz", archives[1]);

            await WaitForImageAsync(images, plain);
            await WaitForImageAsync(images, compressed);

            await fixture.Client.Resource<Pod>().CreateAsync(new Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new ObjectMeta { Name = pod, Namespace = "default" },
                Spec = new PodSpec
                {
                    NodeName = fixture.NodeName,
                    TerminationGracePeriodSeconds = 1,
                    RestartPolicy = "Never",
                    Containers = [new Container { Name = "app", Image = compressed, ImagePullPolicy = "Never", Command = ["sh", "-c", "echo from-the-archive"] }],
                },
            });
            using (var timeout = new CancellationTokenSource(WaitLimit))
            {
                while ((await fixture.Client.Resource<Pod>().GetAsync("default", pod, timeout.Token)).Status?.Phase != "Succeeded")
                {
                    await Task.Delay(200, timeout.Token);
                }
            }

            // What the node imported is recorded by content: another scan (as after a restart) imports nothing.
            using (var timeout = new CancellationTokenSource(WaitLimit))
            {
                while (!File.Exists(supervisor.ImportedArchivesFile) || archives.Any(a => !File.ReadAllText(supervisor.ImportedArchivesFile).Contains($"\"{Path.GetFileName(a)}\"", StringComparison.Ordinal)))
                {
                    await Task.Delay(200, timeout.Token);
                }
            }

            var rescan = new ImageArchiveLoader(folder, supervisor.ImportedArchivesFile, supervisor.Importer, images, TimeProvider.System, NullLogger.Instance);
            await rescan.ScanAsync(CancellationToken.None);
            Assert.Equal(0, rescan.Imported);
            Assert.Equal(2, rescan.Skipped);

            // A changed archive (new content under the same name) is imported again.
            var replaced = $"docker.io/kubesharp/airgap-{id}:replaced";
            await OciImageBuilder.WriteOciArchiveAsync(staging, [await OciImageBuilder.BuildBusyboxAsync(replaced, [], ["sh"])]);
            File.SetLastWriteTimeUtc(staging, DateTime.UtcNow.AddMinutes(-1));
            File.Move(staging, archives[0], overwrite: true);
            await WaitForImageAsync(images, replaced);
        }
        finally
        {
            try
            {
                await fixture.Client.Resource<Pod>().DeleteAsync("default", pod);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }

            foreach (var archive in archives)
            {
                File.Delete(archive);
            }
        }
    }

    private static async Task WaitForImageAsync(IImageService images, string name)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (await images.ImageStatusAsync(new ImageSpec { Image = name }, timeout.Token) is null)
        {
            await Task.Delay(200, timeout.Token);
        }
    }
}
