using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// PersistentVolumes: upstream's defaults (reclaim policy Retain, volumeMode Filesystem, phase Pending), the
/// <c>kubernetes.io/pv-protection</c> finalizer, the time of every phase change, and validation of capacity, access
/// modes, reclaim policy and the one volume source.
/// </summary>
internal sealed class PersistentVolumeStrategy(ApiResource resource, RegistryContext context) : ResourceStrategy(resource)
{
    public const string ProtectionFinalizer = "kubernetes.io/pv-protection";

    private static readonly string[] Sources =
    [
        "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume", "flocker", "gcePersistentDisk",
        "glusterfs", "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
    ];

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        PersistentVolumeClaimStrategy.AddFinalizer(Ensure(obj, "metadata"), ProtectionFinalizer);
        var spec = Ensure(obj, "spec");
        Default(spec, "persistentVolumeReclaimPolicy", "Retain");
        Default(spec, "volumeMode", "Filesystem");
        obj["status"] = new JsonObject { ["phase"] = "Pending", ["lastPhaseTransitionTime"] = Now() };
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        if (updated["spec"] is JsonObject spec)
        {
            Default(spec, "persistentVolumeReclaimPolicy", "Retain");
            Default(spec, "volumeMode", "Filesystem");
        }
    }

    public override JsonObject PrepareForStatusUpdate(JsonObject updated, JsonObject old)
    {
        var result = base.PrepareForStatusUpdate(updated, old);
        if (result["status"] is JsonObject status && (string?)status["phase"] != (string?)old["status"]?["phase"])
        {
            status["lastPhaseTransitionTime"] = Now();
        }

        return result;
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject ?? [];
        if (spec["capacity"] is not JsonObject capacity || capacity.Count == 0)
        {
            causes.Add(Required("spec.capacity"));
        }
        else if (capacity["storage"] is not JsonValue storage || !storage.TryGetValue<string>(out var text) || !Quantity.TryParse(text, out var size))
        {
            causes.Add(Required("spec.capacity", "storage"));
        }
        else if (size <= Quantity.Zero)
        {
            causes.Add(Invalid("spec.capacity.storage", text, "must be greater than zero"));
        }

        PersistentVolumeClaimStrategy.ValidateAccessModes(spec["accessModes"], "spec.accessModes", causes);
        var policy = (string?)spec["persistentVolumeReclaimPolicy"];
        if (policy is not (null or "Delete" or "Recycle" or "Retain"))
        {
            causes.Add(Unsupported("spec.persistentVolumeReclaimPolicy", policy, ["Delete", "Recycle", "Retain"]));
        }

        var sources = Sources.Count(s => spec[s] is not null);
        if (sources == 0)
        {
            causes.Add(Required("spec", "must specify a volume type"));
        }
        else if (sources > 1)
        {
            causes.Add(Forbidden("spec", "may not specify more than 1 volume type"));
        }

        if (spec["hostPath"] is JsonObject hostPath && string.IsNullOrEmpty((string?)hostPath["path"]))
        {
            causes.Add(Required("spec.hostPath.path"));
        }

        if (spec["local"] is JsonObject local)
        {
            if (string.IsNullOrEmpty((string?)local["path"]))
            {
                causes.Add(Required("spec.local.path"));
            }

            if (spec["nodeAffinity"] is null)
            {
                causes.Add(Required("spec.nodeAffinity", "Local volume requires node affinity"));
            }
        }

        if (old?["spec"] is JsonObject oldSpec)
        {
            foreach (var source in Sources.Where(s => !JsonNode.DeepEquals(spec[s], oldSpec[s])))
            {
                causes.Add(Forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"));
                break;
            }

            if (!JsonNode.DeepEquals(spec["volumeMode"], oldSpec["volumeMode"]))
            {
                causes.Add(Invalid("spec.volumeMode", (string?)spec["volumeMode"] ?? string.Empty, "field is immutable"));
            }
        }
    }

    private string Now() => Kubesharp.ApiMachinery.Meta.V1.Rfc3339.FormatTime(context.TimeProvider.GetUtcNow());
}
