using System.Diagnostics;
using System.Formats.Tar;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.Kubelet.Images;

/// <summary>
/// Builds small images without a registry or build tool: one layer holding a statically linked busybox
/// and its applet links, and a config naming the entrypoint. Output is deterministic (fixed times and
/// owners), so the same inputs give the same digests.
/// </summary>
public static class OciImageBuilder
{
    public const string DefaultBusyboxPath = "/bin/busybox";

    /// <summary>The sandbox image the agent imports into its runtime; never pulled.</summary>
    public const string PauseImageName = "docker.io/kubesharp/pause:1.0";

    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeSeconds(0);

    /// <summary>
    /// The pause image: PID 1 ignores signals it has no handler for, so the shell traps TERM/INT and
    /// exits at once instead of waiting for SIGKILL.
    /// </summary>
    /// <remarks>
    /// It holds busybox with links for the two applets it runs and no others: every node imports it first thing, and
    /// containerd unpacks each of busybox's hundreds of links as a file of its own.
    /// </remarks>
    public static async Task<OciImage> BuildPauseAsync(string name = PauseImageName, string busyboxPath = DefaultBusyboxPath, CancellationToken cancellationToken = default)
    {
        var layer = new OciBlob(OciMediaTypes.Layer, await BuildBusyboxLayerAsync(busyboxPath, ["bin/sh", "bin/sleep"], cancellationToken));
        return Assemble(name, layer, ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"], []);
    }

    /// <summary>A busybox image with the given entrypoint and command.</summary>
    public static async Task<OciImage> BuildBusyboxAsync(
        string name, IReadOnlyList<string> entrypoint, IReadOnlyList<string> command,
        string busyboxPath = DefaultBusyboxPath, CancellationToken cancellationToken = default)
    {
        var applets = await ListAppletsAsync(busyboxPath, cancellationToken);
        var layer = new OciBlob(OciMediaTypes.Layer, await BuildBusyboxLayerAsync(busyboxPath, applets, cancellationToken));
        return Assemble(name, layer, entrypoint, command);
    }

    /// <summary>Makes an image of one uncompressed layer and a config.</summary>
    public static OciImage Assemble(string name, OciBlob layer, IReadOnlyList<string> entrypoint, IReadOnlyList<string> command)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var config = new JsonObject
        {
            ["created"] = "1970-01-01T00:00:00Z",
            ["architecture"] = GoArchitecture(),
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=" + DefaultPath),
                ["Entrypoint"] = entrypoint.Count == 0 ? null : new JsonArray([.. entrypoint.Select(e => (JsonNode?)e)]),
                ["Cmd"] = command.Count == 0 ? null : new JsonArray([.. command.Select(e => (JsonNode?)e)]),
                ["WorkingDir"] = "/",
            },
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                // The layer is stored uncompressed, so its digest is also its diff ID.
                ["diff_ids"] = new JsonArray(layer.Digest),
            },
            ["history"] = new JsonArray(new JsonObject { ["created"] = "1970-01-01T00:00:00Z", ["created_by"] = "kubesharp image builder" }),
        };
        var configBlob = new OciBlob(OciMediaTypes.ImageConfig, Utf8Json(config));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageManifest,
            ["config"] = Descriptor(configBlob),
            ["layers"] = new JsonArray(Descriptor(layer)),
        };
        var manifestBlob = new OciBlob(OciMediaTypes.ImageManifest, Utf8Json(manifest));
        return new OciImage(name, manifestBlob, configBlob, [layer]);
    }

    /// <summary>The node's JSON text in UTF-8, written directly rather than through the reflection serialiser.</summary>
    private static byte[] Utf8Json(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            node.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes images as an OCI image layout tarball that containerd (and most tools) can import.</summary>
    public static async Task WriteOciArchiveAsync(Stream destination, IReadOnlyList<OciImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(images);
        var manifests = new JsonArray();
        foreach (var image in images)
        {
            var descriptor = Descriptor(image.Manifest);
            descriptor["annotations"] = new JsonObject
            {
                [OciMediaTypes.ContainerdImageNameAnnotation] = image.Name,
                [OciMediaTypes.RefNameAnnotation] = image.Tag,
            };
            descriptor["platform"] = new JsonObject { ["architecture"] = GoArchitecture(), ["os"] = "linux" };
            manifests.Add((JsonNode?)descriptor);
        }

        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = OciMediaTypes.ImageIndex, ["manifests"] = manifests };
        await using var tar = new TarWriter(destination, TarEntryFormat.Ustar, leaveOpen: true);
        await WriteFileAsync(tar, "oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray(), cancellationToken);
        await WriteFileAsync(tar, "index.json", Utf8Json(index), cancellationToken);
        await WriteDirectoryAsync(tar, "blobs/", cancellationToken);
        await WriteDirectoryAsync(tar, "blobs/sha256/", cancellationToken);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var blob in images.SelectMany(i => i.Blobs))
        {
            if (written.Add(blob.Digest))
            {
                await WriteFileAsync(tar, "blobs/sha256/" + blob.Digest["sha256:".Length..], blob.Content, cancellationToken);
            }
        }
    }

    public static async Task WriteOciArchiveAsync(string path, IReadOnlyList<OciImage> images, CancellationToken cancellationToken = default)
    {
        await using var file = File.Create(path);
        await WriteOciArchiveAsync(file, images, cancellationToken);
    }

    internal static JsonObject Descriptor(OciBlob blob) => new()
    {
        ["mediaType"] = blob.MediaType,
        ["digest"] = blob.Digest,
        ["size"] = blob.Size,
    };

    /// <summary>Applet paths relative to the root ("bin/sh", "usr/bin/wget", ...).</summary>
    internal static async Task<IReadOnlyList<string>> ListAppletsAsync(string busyboxPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(busyboxPath))
        {
            throw new FileNotFoundException($"busybox not found at {busyboxPath}; install the busybox-static package.", busyboxPath);
        }

        var start = new ProcessStartInfo(busyboxPath) { ArgumentList = { "--list-full" }, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run busybox.");
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{busyboxPath} --list-full' exited with {process.ExitCode}.");
        }

        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(p => !p.Contains("..", StringComparison.Ordinal) && !p.StartsWith('/'))
            .Order(StringComparer.Ordinal)];
    }

    private static async Task<byte[]> BuildBusyboxLayerAsync(string busyboxPath, IReadOnlyList<string> applets, CancellationToken cancellationToken)
    {
        // Sized for busybox and the entries' headers up front, and busybox streamed in: a node's start builds this layer
        // while the rest of the server starts, and a growing buffer would leave several times busybox's size as garbage.
        await using var busybox = File.OpenRead(busyboxPath);
        using var buffer = new MemoryStream(checked((int)busybox.Length + ((applets.Count + 32) * 512) + 1024));
        await using (var tar = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var directories = new SortedSet<string>(StringComparer.Ordinal)
            {
                "bin/", "sbin/", "usr/", "usr/bin/", "usr/sbin/", "etc/", "root/", "var/", "var/www/", "proc/", "sys/", "dev/",
            };
            foreach (var applet in applets)
            {
                for (var slash = applet.IndexOf('/'); slash > 0; slash = applet.IndexOf('/', slash + 1))
                {
                    directories.Add(applet[..(slash + 1)]);
                }
            }

            foreach (var directory in directories)
            {
                await WriteDirectoryAsync(tar, directory, cancellationToken);
            }

            await WriteDirectoryAsync(tar, "tmp/", cancellationToken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.StickyBit);
            await WriteFileAsync(tar, "bin/busybox", busybox, cancellationToken, executable: true);
            foreach (var applet in applets.Where(a => a != "bin/busybox"))
            {
                var link = new UstarTarEntry(TarEntryType.SymbolicLink, applet) { LinkName = "/bin/busybox" };
                Normalize(link, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                await tar.WriteEntryAsync(link, cancellationToken);
            }

            await WriteFileAsync(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"u8.ToArray(), cancellationToken);
            await WriteFileAsync(tar, "etc/group", "root:x:0:\nnogroup:x:65534:\n"u8.ToArray(), cancellationToken);
        }

        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    private static Task WriteFileAsync(TarWriter tar, string name, byte[] content, CancellationToken cancellationToken, bool executable = false) =>
        WriteFileAsync(tar, name, new MemoryStream(content, writable: false), cancellationToken, executable);

    private static async Task WriteFileAsync(TarWriter tar, string name, Stream content, CancellationToken cancellationToken, bool executable = false)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = content };
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        if (executable)
        {
            mode |= UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        }

        Normalize(entry, mode);
        await tar.WriteEntryAsync(entry, cancellationToken);
    }

    private static async Task WriteDirectoryAsync(TarWriter tar, string name, CancellationToken cancellationToken, UnixFileMode? mode = null)
    {
        var entry = new UstarTarEntry(TarEntryType.Directory, name);
        Normalize(entry, mode ?? (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute));
        await tar.WriteEntryAsync(entry, cancellationToken);
    }

    private static void Normalize(PosixTarEntry entry, UnixFileMode mode)
    {
        entry.Mode = mode;
        entry.ModificationTime = Epoch;
        entry.Uid = 0;
        entry.Gid = 0;
        entry.UserName = "root";
        entry.GroupName = "root";
    }

    private static string GoArchitecture() => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        var other => other.ToString().ToLowerInvariant(),
    };
}
