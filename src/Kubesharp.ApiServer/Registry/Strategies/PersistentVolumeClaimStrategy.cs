using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// PersistentVolumeClaims: upstream's defaults (volumeMode, phase Pending), the default StorageClass filled in when
/// none is named (the DefaultStorageClass admission plugin), the <c>kubernetes.io/pvc-protection</c> finalizer
/// (StorageObjectInUseProtection), a spec that is immutable except for binding and for growing a bound claim whose
/// class allows expansion (PersistentVolumeClaimResize).
/// </summary>
internal sealed class PersistentVolumeClaimStrategy(ApiResource resource, RegistryContext context) : ResourceStrategy(resource)
{
    public const string ProtectionFinalizer = "kubernetes.io/pvc-protection";
    public const string StorageClasses = "storageclasses.storage.k8s.io";
    public const string DefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";
    private const string BetaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class";
    private static readonly string[] AccessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        var meta = Ensure(obj, "metadata");
        AddFinalizer(meta, ProtectionFinalizer);
        var spec = Ensure(obj, "spec");
        Default(spec, "volumeMode", "Filesystem");
        if (!spec.ContainsKey("storageClassName") && DefaultClassName(context) is { } className)
        {
            spec["storageClassName"] = className;
        }

        obj["status"] = new JsonObject { ["phase"] = "Pending" };
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        if (updated["spec"] is JsonObject spec)
        {
            Default(spec, "volumeMode", "Filesystem");
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject ?? [];
        ValidateAccessModes(spec["accessModes"], "spec.accessModes", causes);
        if (spec["resources"]?["requests"]?["storage"] is null)
        {
            causes.Add(Required("spec.resources[storage]"));
        }
        else if (!Quantity.TryParse((string?)spec["resources"]!["requests"]!["storage"], out var size) || size <= Quantity.Zero)
        {
            causes.Add(Invalid("spec.resources[storage]", spec["resources"]!["requests"]!["storage"]!.ToJsonString(), "must be greater than zero"));
        }

        if ((string?)spec["volumeMode"] is { } mode && mode is not ("Filesystem" or "Block"))
        {
            causes.Add(Unsupported("spec.volumeMode", mode, ["Block", "Filesystem"]));
        }

        if (old?["spec"] is JsonObject oldSpec)
        {
            ValidateUpdate(obj, spec, old, oldSpec, causes);
        }
    }

    /// <summary>
    /// Upstream lets a claim's spec change only to bind it (volumeName once), to name a class where none was set,
    /// and, once Bound, to change resources.requests; growing also needs a class that allows expansion.
    /// </summary>
    private void ValidateUpdate(JsonObject obj, JsonObject spec, JsonObject old, JsonObject oldSpec, List<StatusCause> causes)
    {
        var comparable = spec.DeepClone().AsObject();
        if (string.IsNullOrEmpty((string?)oldSpec["volumeName"]))
        {
            CopyField(oldSpec, comparable, "volumeName");
        }

        if (oldSpec["storageClassName"] is null && comparable["storageClassName"] is not null)
        {
            comparable.Remove("storageClassName");
        }

        var bound = (string?)old["status"]?["phase"] == "Bound" || !string.IsNullOrEmpty((string?)oldSpec["volumeName"]);
        if (bound)
        {
            if (comparable["resources"] is JsonObject resources)
            {
                CopyField(oldSpec["resources"] as JsonObject ?? [], resources, "requests");
            }

            CopyField(oldSpec, comparable, "volumeAttributesClassName");
        }

        var oldComparable = oldSpec.DeepClone().AsObject();
        if (oldSpec["storageClassName"] is null)
        {
            oldComparable.Remove("storageClassName");
        }

        if (!JsonNode.DeepEquals(comparable, oldComparable))
        {
            causes.Add(Forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
            return;
        }

        var newSize = StorageOf(spec["resources"]?["requests"]);
        var oldSize = StorageOf(oldSpec["resources"]?["requests"]);
        if (newSize is not { } grown || oldSize is not { } before || grown == before)
        {
            return;
        }

        if (StorageOf(old["status"]?["capacity"]) is { } capacity && grown < capacity)
        {
            causes.Add(Forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"));
            return;
        }

        if (grown > before && !ClassAllowsExpansion((string?)spec["storageClassName"]))
        {
            var name = (string?)obj["metadata"]?["name"] ?? string.Empty;
            throw StatusError.Forbidden(Resource.Resource, Resource.Group, name, "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize");
        }
    }

    private bool ClassAllowsExpansion(string? className)
    {
        if (string.IsNullOrEmpty(className) || context.Cache.For(StorageClasses).Get(WatchCachePrefix + className) is not { } found)
        {
            return false;
        }

        return found.Root.TryGetProperty("allowVolumeExpansion", out var allow) && allow.ValueKind == JsonValueKind.True;
    }

    private const string WatchCachePrefix = Caching.WatchCache.RegistryPrefix + StorageClasses + "/";

    private static Quantity? StorageOf(JsonNode? list) =>
        list?["storage"] is JsonValue v && v.TryGetValue<string>(out var text) && Quantity.TryParse(text, out var q) ? q : null;

    /// <summary>
    /// The default StorageClass as upstream picks it: among classes annotated as default, the newest (by creation
    /// time, then name); null when there is none.
    /// </summary>
    public static string? DefaultClassName(RegistryContext context)
    {
        string? best = null;
        var bestCreated = string.Empty;
        foreach (var cached in context.Cache.For(StorageClasses).Snapshot.Values)
        {
            if (!cached.Root.TryGetProperty("metadata", out var meta) || !meta.TryGetProperty("annotations", out var annotations) || annotations.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var isDefault = (annotations.TryGetProperty(DefaultClassAnnotation, out var a) && a.ValueKind == JsonValueKind.String && a.GetString() == "true")
                || (annotations.TryGetProperty(BetaDefaultClassAnnotation, out var b) && b.ValueKind == JsonValueKind.String && b.GetString() == "true");
            if (!isDefault)
            {
                continue;
            }

            var created = meta.TryGetProperty("creationTimestamp", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : string.Empty;
            var comparison = string.CompareOrdinal(created, bestCreated);
            if (best is null || comparison > 0 || (comparison == 0 && string.CompareOrdinal(cached.Name, best) < 0))
            {
                best = cached.Name;
                bestCreated = created;
            }
        }

        return best;
    }

    public static void ValidateAccessModes(JsonNode? modes, string field, List<StatusCause> causes)
    {
        if (modes is not JsonArray { Count: > 0 } list)
        {
            causes.Add(Required(field, "at least 1 access mode is required"));
            return;
        }

        foreach (var mode in list)
        {
            var text = mode is JsonValue v && v.TryGetValue<string>(out var s) ? s : mode?.ToJsonString() ?? "null";
            if (!AccessModes.Contains(text, StringComparer.Ordinal))
            {
                causes.Add(Unsupported(field, text, AccessModes));
            }
        }

        if (list.Any(m => (string?)m == "ReadWriteOncePod") && list.Count > 1)
        {
            causes.Add(Forbidden(field, "may not use ReadWriteOncePod with other access modes"));
        }
    }

    public static void AddFinalizer(JsonObject meta, string finalizer)
    {
        if (meta["finalizers"] is not JsonArray finalizers)
        {
            meta["finalizers"] = new JsonArray(finalizer);
            return;
        }

        if (!finalizers.Any(f => (string?)f == finalizer))
        {
            finalizers.Add((JsonNode?)finalizer);
        }
    }
}
