using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client;
using Kubesharp.Commands;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Addons;

/// <summary>
/// Auto-deploying manifests, as k3s's: every <c>*.yaml</c>, <c>*.yml</c> and <c>*.json</c> in DATA/server/manifests is
/// applied with server-side apply (field manager <see cref="FieldManager"/>, forced: the file is the truth) at start,
/// when the folder changes and on a periodic rescan. Each object is labelled <c>app.kubernetes.io/managed-by:
/// kubesharp-addons</c> and annotated with its file (<see cref="SourceAnnotation"/>); namespaced objects without a
/// namespace go to kube-system. <see cref="AddonRecords"/> keeps what each file created: objects dropped from a file,
/// or of a removed file, are deleted (only while they still carry the file's annotation). <c>NAME.yaml.skip</c>
/// beside a file, or <c>--disable NAME</c>, leaves it alone.
/// </summary>
internal sealed partial class AddonDeployer
{
    public const string FieldManager = "kubesharp-addons";
    public const string SourceAnnotation = "addons.kubesharp.io/source";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string DefaultNamespace = "kube-system";
    public const string SkipSuffix = ".skip";

    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];
    private readonly KubernetesClient client;
    private readonly string directory;
    private readonly AddonRecords records;
    private readonly IReadOnlySet<string> disabled;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public AddonDeployer(KubernetesClient client, string dataDir, IReadOnlySet<string> disabled, TimeProvider time, ILogger logger)
    {
        this.client = client;
        directory = ManifestsDirectory(dataDir);
        records = new AddonRecords(Path.Combine(dataDir, "server", "addons.json"));
        this.disabled = disabled;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>How often the folder is read again when no change is noticed (a watcher can miss events).</summary>
    public TimeSpan Rescan { get; init; } = TimeSpan.FromSeconds(30);

    public static string ManifestsDirectory(string dataDir) => Path.Combine(dataDir, "server", "manifests");

    /// <summary>Applies the folder now, then whenever it changes, until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        using var watcher = Watch(changed.Writer);
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                failures = await SyncAsync(cancellationToken).ConfigureAwait(false) ? 0 : failures + 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The folder or the record cannot be read or written now: tried again on the next round.
                LogFailed(logger, directory, e.Message);
                failures++;
            }

            // A failed file (a custom resource whose definition is not served yet, an API not ready) is tried again soon.
            var wait = failures == 0 ? Rescan : TimeSpan.FromTicks(Math.Min(Rescan.Ticks, TimeSpan.FromSeconds(1 << Math.Min(failures, 4)).Ticks));
            using var rescan = new CancellationTokenSource(wait, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, rescan.Token);
            try
            {
                await changed.Reader.ReadAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>A watcher that signals any change of the folder; null when none can be had (the rescan still runs).</summary>
    private FileSystemWatcher? Watch(ChannelWriter<bool> changed)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var watcher = new FileSystemWatcher(directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
            watcher.Changed += (_, _) => changed.TryWrite(true);
            watcher.Created += (_, _) => changed.TryWrite(true);
            watcher.Deleted += (_, _) => changed.TryWrite(true);
            watcher.Renamed += (_, _) => changed.TryWrite(true);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Typically the inotify instance limit: changes are then noticed by the rescan only.
            LogNoWatcher(logger, directory, e.Message);
            return null;
        }
    }

    /// <summary>Brings the cluster in line with the folder once; false when a file could not be applied or pruned.</summary>
    public async Task<bool> SyncAsync(CancellationToken cancellationToken)
    {
        var ok = true;
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.Exists(directory) ? Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
        {
            var file = Path.GetFileName(path);
            if (!Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            present.Add(file);
            if (File.Exists(path + SkipSuffix) || disabled.Contains(Path.GetFileNameWithoutExtension(file)))
            {
                continue;
            }

            ok &= await ApplyFileAsync(file, path, cancellationToken).ConfigureAwait(false);
        }

        foreach (var file in records.Files.Where(f => !present.Contains(f)).ToList())
        {
            var remaining = await PruneAsync(file, records.Get(file)!.Objects, cancellationToken).ConfigureAwait(false);
            if (remaining.Count == 0)
            {
                records.Remove(file);
                LogRemoved(logger, file);
            }
            else
            {
                records.Set(file, new AddonRecord(null, remaining));
                ok = false;
            }
        }

        return ok;
    }

    private async Task<bool> ApplyFileAsync(string file, string path, CancellationToken cancellationToken)
    {
        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            LogFailed(logger, file, e.Message);
            return false;
        }

        var checksum = Convert.ToHexStringLower(SHA256.HashData(content));
        var previous = records.Get(file);
        if (previous?.Checksum == checksum)
        {
            return true;
        }

        var applied = new List<AddonObject>();
        try
        {
            var objects = Objects(Encoding.UTF8.GetString(content));
            foreach (var obj in objects)
            {
                applied.Add(await ApplyAsync(file, obj, cancellationToken).ConfigureAwait(false));
            }
        }
        catch (Exception e) when (e is StatusException or FormatException or HttpRequestException or System.Text.Json.JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a field of the wrong JSON type (metadata a string, a numeric kind).
            LogFailed(logger, file, e.Message);
            // What was applied is recorded with what was there, so a removal of the file still deletes it.
            records.Set(file, new AddonRecord(null, [.. (previous?.Objects ?? []).Union(applied)]));
            return false;
        }

        var dropped = (previous?.Objects ?? []).Except(applied).ToList();
        var remaining = await PruneAsync(file, dropped, cancellationToken).ConfigureAwait(false);
        records.Set(file, new AddonRecord(remaining.Count == 0 ? checksum : null, [.. applied, .. remaining]));
        LogApplied(logger, file, applied.Count);
        return remaining.Count == 0;
    }

    /// <summary>The file's objects (a List's items in its place), namespaces and definitions first.</summary>
    private static List<JsonObject> Objects(string text)
    {
        var objects = new List<JsonObject>();
        foreach (var document in YamlDecoder.DecodeAll(text))
        {
            if (document is not JsonObject obj)
            {
                throw new FormatException("a document is not an object");
            }

            if ((string?)obj["kind"] is { } kind && kind.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray items)
            {
                objects.AddRange(items.Select(i => i as JsonObject ?? throw new FormatException("an item of a List is not an object")));
            }
            else
            {
                objects.Add(obj);
            }
        }

        return [.. objects.OrderBy(o => (string?)o["kind"] switch { "Namespace" => 0, "CustomResourceDefinition" => 1, _ => 2 })];
    }

    private async Task<AddonObject> ApplyAsync(string file, JsonObject source, CancellationToken cancellationToken)
    {
        var obj = (JsonObject)source.DeepClone();
        if ((string?)obj["apiVersion"] is not { Length: > 0 } apiVersion || (string?)obj["kind"] is not { Length: > 0 } kind || (string?)obj["metadata"]?["name"] is not { Length: > 0 } name)
        {
            throw new FormatException("every object needs apiVersion, kind and metadata.name");
        }

        var resource = await ServedResource.FindByKindAsync(client, apiVersion, kind, cancellationToken).ConfigureAwait(false);
        var metadata = obj["metadata"] as JsonObject ?? throw new FormatException("metadata is not an object");
        string? @namespace = null;
        if (resource.Namespaced)
        {
            @namespace = (string?)metadata["namespace"] is { Length: > 0 } given ? given : DefaultNamespace;
            metadata["namespace"] = @namespace;
        }
        else
        {
            metadata.Remove("namespace");
        }

        Mark(metadata, "labels", ManagedByLabel, FieldManager);
        Mark(metadata, "annotations", SourceAnnotation, file);
        await client.PatchJsonAsync(resource.ObjectPath(@namespace ?? string.Empty, name), PatchType.Apply, obj, new PatchOptions { FieldManager = FieldManager, Force = true }, cancellationToken).ConfigureAwait(false);
        return new AddonObject(apiVersion, kind, @namespace, name);
    }

    private static void Mark(JsonObject metadata, string map, string key, string value)
    {
        if (metadata[map] is not JsonObject entries)
        {
            entries = [];
            metadata[map] = entries;
        }

        entries[key] = value;
    }

    /// <summary>Deletes objects the file no longer holds; returns those that could not be deleted yet.</summary>
    private async Task<List<AddonObject>> PruneAsync(string file, IEnumerable<AddonObject> objects, CancellationToken cancellationToken)
    {
        var remaining = new List<AddonObject>();
        foreach (var o in objects)
        {
            try
            {
                var resource = await ServedResource.FindByKindAsync(client, o.ApiVersion, o.Kind, cancellationToken).ConfigureAwait(false);
                var path = resource.ObjectPath(o.Namespace ?? string.Empty, o.Name);
                // An object another owner has taken over (annotation changed or removed) is not the file's to delete.
                if (await client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false) is { } current
                    && (string?)current["metadata"]?["annotations"]?[SourceAnnotation] == file)
                {
                    await client.SendJsonAsync(HttpMethod.Delete, path + "?propagationPolicy=Background", null, cancellationToken).ConfigureAwait(false);
                    LogDeleted(logger, file, o);
                }
            }
            catch (StatusException e) when (e.Code == 404)
            {
                // The kind is not served any more: nothing of it is left.
            }
            catch (Exception e) when (e is StatusException or HttpRequestException)
            {
                LogFailed(logger, file, e.Message);
                remaining.Add(o);
            }
        }

        return remaining;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied add-on manifest {File} ({Count} objects)")]
    private static partial void LogApplied(ILogger logger, string file, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Object}, no longer in add-on manifest {File}")]
    private static partial void LogDeleted(ILogger logger, string file, AddonObject @object);

    [LoggerMessage(Level = LogLevel.Information, Message = "Add-on manifest {File} was removed; its objects are deleted")]
    private static partial void LogRemoved(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch {Directory} ({Reason}); add-on manifests are read every rescan only")]
    private static partial void LogNoWatcher(ILogger logger, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not apply add-on manifest {File}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string file, string reason);
}
