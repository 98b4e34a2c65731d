using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Runtime;

/// <summary>
/// Air-gap images: archives (OCI or docker, <c>.tar</c>, <c>.tar.gz</c> or <c>.tgz</c>) put into the node's
/// images folder are imported into containerd when the node starts and whenever they appear or change. Each archive is
/// imported once per content: its SHA-256 and the images it held are kept beside containerd's state, so a restart
/// imports nothing again unless an image went missing.
/// </summary>
public sealed partial class ImageArchiveLoader
{
    private static readonly string[] Extensions = [".tar", ".tar.gz", ".tgz"];

    private readonly string directory;
    private readonly string statePath;
    private readonly ContainerdImageImporter importer;
    private readonly IImageService images;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    // Archives that failed, by name, with the size and time they had: tried again only once they change.
    private readonly Dictionary<string, (long Length, long LastWriteTicks)> failed = new(StringComparer.Ordinal);

    public ImageArchiveLoader(string directory, string statePath, ContainerdImageImporter importer, IImageService images, TimeProvider time, ILogger logger)
    {
        this.directory = directory;
        this.statePath = statePath;
        this.importer = importer;
        this.images = images;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>Archives imported so far by this loader (not those skipped as already imported).</summary>
    public int Imported { get; private set; }

    /// <summary>Archives found already imported, unchanged, with their images present.</summary>
    public int Skipped { get; private set; }

    /// <summary>
    /// Imports every archive in the folder that is new or changed; an archive that fails is logged and tried again on
    /// the next scan. Scans of one folder run one at a time (the node's start, then <see cref="RunAsync"/>).
    /// </summary>
    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        var state = ReadState();
        var changed = false;
        foreach (var path in Directory.EnumerateFiles(directory).Where(IsArchive).Order(StringComparer.Ordinal))
        {
            var file = new FileInfo(path);
            // Still being written: the next scan (the folder is watched) takes it.
            if (time.GetUtcNow() - file.LastWriteTimeUtc < TimeSpan.FromSeconds(1))
            {
                continue;
            }

            state.TryGetValue(file.Name, out var known);
            if (known is not null && known.Length == file.Length && known.LastWriteTicks == file.LastWriteTimeUtc.Ticks && await PresentAsync(known.Images, cancellationToken).ConfigureAwait(false))
            {
                Skipped++;
                continue;
            }

            var digest = await DigestAsync(path, cancellationToken).ConfigureAwait(false);
            if (known is not null && known.Sha256 == digest && await PresentAsync(known.Images, cancellationToken).ConfigureAwait(false))
            {
                state[file.Name] = known with { Length = file.Length, LastWriteTicks = file.LastWriteTimeUtc.Ticks };
                changed = true;
                Skipped++;
                continue;
            }

            if (failed.TryGetValue(file.Name, out var failure) && failure == (file.Length, file.LastWriteTimeUtc.Ticks))
            {
                continue;
            }

            LogImporting(logger, path, file.Length);
            var stopwatch = Stopwatch.StartNew();
            string? decompressed = null;
            try
            {
                // containerd's import reads plain tar only.
                if (!path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase))
                {
                    decompressed = Path.Combine(Path.GetDirectoryName(statePath)!, $"importing-{file.Name}.tar");
                    await DecompressAsync(path, decompressed, cancellationToken).ConfigureAwait(false);
                }

                var names = await importer.ImportAndWaitAsync(decompressed ?? path, images, time, cancellationToken).ConfigureAwait(false);
                state[file.Name] = new ImportedArchive(digest, file.Length, file.LastWriteTimeUtc.Ticks, [.. names]);
                // Recorded at once: a node stopped halfway through a folder keeps what it has done.
                WriteState(state);
                Imported++;
                LogImported(logger, path, names.Count, names, stopwatch.Elapsed.TotalSeconds);
            }
            catch (Exception e) when (e is ImageImportException or IOException or InvalidDataException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failed[file.Name] = (file.Length, file.LastWriteTimeUtc.Ticks);
                LogImportFailed(logger, path, e.Message);
            }
            finally
            {
                if (decompressed is not null)
                {
                    File.Delete(decompressed);
                }
            }
        }

        foreach (var gone in state.Keys.Where(name => !File.Exists(Path.Combine(directory, name))).ToList())
        {
            state.Remove(gone);
            changed = true;
        }

        if (changed)
        {
            WriteState(state);
        }
    }

    /// <summary>Scans whenever the folder changes (and once a minute, should a change go unnoticed) until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
        void Changed(object sender, FileSystemEventArgs e) => changes.Writer.TryWrite(true);
        watcher.Created += Changed;
        watcher.Changed += Changed;
        watcher.Renamed += (sender, e) => changes.Writer.TryWrite(true);
        watcher.EnableRaisingEvents = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var periodic = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            periodic.CancelAfter(TimeSpan.FromMinutes(1));
            try
            {
                await changes.Reader.ReadAsync(periodic.Token).ConfigureAwait(false);
                // Let a copy in progress finish: an archive is taken once it has not been written for a second.
                await Task.Delay(TimeSpan.FromSeconds(1.5), time, cancellationToken).ConfigureAwait(false);
                changes.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await TryScanAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Scans, logging instead of throwing when the folder or containerd cannot be read: images are not worth stopping a node for.</summary>
    public async Task TryScanAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ScanAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or ContainerRuntimeUnavailableException or Grpc.Core.RpcException)
        {
            LogScanFailed(logger, directory, e.Message);
        }
    }

    private static bool IsArchive(string path) => Extensions.Any(extension => path.EndsWith(extension, StringComparison.OrdinalIgnoreCase));

    private async Task<bool> PresentAsync(string[] names, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            if (await images.ImageStatusAsync(new ImageSpec { Image = name }, cancellationToken).ConfigureAwait(false) is null)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task DecompressAsync(string gzipPath, string tarPath, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(tarPath)!);
        await using var source = new FileStream(gzipPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var gzip = new GZipStream(source, CompressionMode.Decompress);
        await using var target = new FileStream(tarPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await gzip.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string> DigestAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    private Dictionary<string, ImportedArchive> ReadState()
    {
        try
        {
            return File.Exists(statePath)
                ? JsonSerializer.Deserialize(File.ReadAllBytes(statePath), ImageArchiveStateContext.Default.DictionaryStringImportedArchive) ?? []
                : [];
        }
        catch (JsonException)
        {
            // A damaged record only costs one import more.
            return [];
        }
    }

    private void WriteState(Dictionary<string, ImportedArchive> state)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(statePath)!);
        var temporary = statePath + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(state, ImageArchiveStateContext.Default.DictionaryStringImportedArchive));
        File.Move(temporary, statePath, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Importing images from {Path} ({Bytes} bytes)")]
    private static partial void LogImporting(ILogger logger, string path, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported {Count} images from {Path} in {Seconds:0.0} s: {Names}")]
    private static partial void LogImported(ILogger logger, string path, int count, IReadOnlyList<string> names, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Importing images from {Path} failed: {Reason}")]
    private static partial void LogImportFailed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the image archives in {Directory} failed: {Reason}")]
    private static partial void LogScanFailed(ILogger logger, string directory, string reason);
}

/// <summary>What was imported from one archive.</summary>
public sealed record ImportedArchive(string Sha256, long Length, long LastWriteTicks, string[] Images);

[JsonSerializable(typeof(Dictionary<string, ImportedArchive>))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
internal sealed partial class ImageArchiveStateContext : JsonSerializerContext;
