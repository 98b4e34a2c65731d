using System.Formats.Tar;
using System.Text.Json.Nodes;
using Kubesharp.Kubelet.Images;

namespace Kubesharp.Kubelet.Tests.Images;

public sealed class OciImageBuilderTests
{
    [Fact]
    public void Assemble_Layer_ConfigNamesItsDiffIdAndManifestReferencesBoth()
    {
        var layer = new OciBlob(OciMediaTypes.Layer, [1, 2, 3]);

        var image = OciImageBuilder.Assemble("docker.io/kubesharp/x:v1", layer, ["/bin/sh"], ["-c", "true"]);

        var config = JsonNode.Parse(image.Config.Content)!;
        Assert.Equal(layer.Digest, (string?)config["rootfs"]!["diff_ids"]![0]);
        Assert.Equal("/bin/sh", (string?)config["config"]!["Entrypoint"]![0]);
        Assert.Equal("linux", (string?)config["os"]);
        var manifest = JsonNode.Parse(image.Manifest.Content)!;
        Assert.Equal(image.Config.Digest, (string?)manifest["config"]!["digest"]);
        Assert.Equal(image.Config.Size, (long?)manifest["config"]!["size"]);
        Assert.Equal(layer.Digest, (string?)manifest["layers"]![0]!["digest"]);
        Assert.Equal("v1", image.Tag);
        Assert.Equal("docker.io/kubesharp/x", image.Repository);
    }

    [Fact]
    public void OciBlob_KnownContent_HasSha256Digest()
    {
        var blob = new OciBlob(OciMediaTypes.Layer, "abc"u8.ToArray());

        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", blob.Digest);
    }

    [BusyboxFact]
    public async Task BuildBusyboxAsync_TwiceWithSameInputs_GivesSameDigests()
    {
        var first = await OciImageBuilder.BuildBusyboxAsync("docker.io/kubesharp/busybox:test", [], ["sh"]);
        var second = await OciImageBuilder.BuildBusyboxAsync("docker.io/kubesharp/busybox:test", [], ["sh"]);

        Assert.Equal(first.Manifest.Digest, second.Manifest.Digest);
        Assert.Equal(first.Layers[0].Digest, second.Layers[0].Digest);
    }

    [BusyboxFact]
    public async Task BuildPauseAsync_Layer_LinksOnlyTheAppletsItRuns()
    {
        var image = await OciImageBuilder.BuildPauseAsync();

        var links = new List<string>();
        var files = new List<string>();
        using var reader = new TarReader(new MemoryStream(image.Layers[0].Content));
        while (reader.GetNextEntry() is { } entry)
        {
            (entry.EntryType == TarEntryType.SymbolicLink ? links : entry.EntryType == TarEntryType.Directory ? null : files)?.Add(entry.Name);
        }

        Assert.Equal(["bin/sh", "bin/sleep"], links.Order(StringComparer.Ordinal));
        Assert.Equal(["bin/busybox", "etc/group", "etc/passwd"], files.Order(StringComparer.Ordinal));
        var config = JsonNode.Parse(image.Config.Content)!;
        Assert.Equal("/bin/sh", (string?)config["config"]!["Entrypoint"]![0]);
        Assert.Contains("sleep", (string?)config["config"]!["Entrypoint"]![2], StringComparison.Ordinal);
    }

    [BusyboxFact]
    public async Task BuildBusyboxAsync_Layer_HoldsBusyboxAndAppletLinks()
    {
        var image = await OciImageBuilder.BuildBusyboxAsync("docker.io/kubesharp/busybox:test", [], ["sh"]);

        var entries = new Dictionary<string, TarEntry>();
        using var reader = new TarReader(new MemoryStream(image.Layers[0].Content));
        while (reader.GetNextEntry() is { } entry)
        {
            entries[entry.Name] = entry;
        }

        Assert.Equal(TarEntryType.RegularFile, entries["bin/busybox"].EntryType);
        Assert.True(entries["bin/busybox"].Mode.HasFlag(UnixFileMode.UserExecute));
        Assert.Equal("/bin/busybox", entries["bin/sh"].LinkName);
        Assert.Contains(entries.Keys, name => name.EndsWith("/httpd", StringComparison.Ordinal));
        Assert.True(entries["tmp/"].Mode.HasFlag(UnixFileMode.StickyBit));
    }

    [Fact]
    public async Task WriteOciArchiveAsync_TwoImagesSharingALayer_WritesLayoutIndexAndEachBlobOnce()
    {
        var layer = new OciBlob(OciMediaTypes.Layer, [9, 9, 9]);
        var a = OciImageBuilder.Assemble("docker.io/kubesharp/a:1", layer, [], ["a"]);
        var b = OciImageBuilder.Assemble("docker.io/kubesharp/b:2", layer, [], ["b"]);
        using var archive = new MemoryStream();

        await OciImageBuilder.WriteOciArchiveAsync(archive, [a, b]);

        archive.Position = 0;
        var files = new Dictionary<string, byte[]>();
        using (var reader = new TarReader(archive))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is { } data)
                {
                    using var copy = new MemoryStream();
                    data.CopyTo(copy);
                    Assert.DoesNotContain(entry.Name, files.Keys);
                    files[entry.Name] = copy.ToArray();
                }
            }
        }

        Assert.Contains("oci-layout", files.Keys);
        foreach (var (name, content) in files.Where(f => f.Key.StartsWith("blobs/sha256/", StringComparison.Ordinal)))
        {
            Assert.Equal("sha256:" + name["blobs/sha256/".Length..], OciBlob.DigestOf(content));
        }

        Assert.Equal(5, files.Count(f => f.Key.StartsWith("blobs/", StringComparison.Ordinal)));
        var index = JsonNode.Parse(files["index.json"])!;
        var manifests = index["manifests"]!.AsArray();
        Assert.Equal([a.Manifest.Digest, b.Manifest.Digest], manifests.Select(m => (string?)m!["digest"]));
        Assert.Equal("docker.io/kubesharp/b:2", (string?)manifests[1]!["annotations"]![OciMediaTypes.ContainerdImageNameAnnotation]);
        Assert.Equal("2", (string?)manifests[1]!["annotations"]![OciMediaTypes.RefNameAnnotation]);
    }
}

internal sealed class BusyboxFactAttribute : FactAttribute
{
    public BusyboxFactAttribute()
    {
        if (!File.Exists(OciImageBuilder.DefaultBusyboxPath))
        {
            Skip = "busybox-static is not installed (/bin/busybox).";
        }
    }
}
