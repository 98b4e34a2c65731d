using System.Text.Json;
using System.Text.Json.Nodes;
using static Kubesharp.ApiServer.Printing.CellFormats;

namespace Kubesharp.ApiServer.Printing;

/// <summary>Tables of storage kinds: volumes and claims (core group) and storage.k8s.io.</summary>
internal static class StorageTables
{
    private const string BetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

    public static void AddTo(IDictionary<string, ResourceTable> tables)
    {
        tables["persistentvolumes"] = new TableBuilder()
            .Name()
            .Column("Capacity", "Storage capacity.", o => Quantity(o.Spec.Field("capacity", "storage")))
            .Column("Access Modes", "Access modes (RWO, ROX, RWX, RWOP).", o => AccessModes(o.Spec.Field("accessModes")))
            .Column("Reclaim Policy", "What happens to the volume when its claim goes.", o => o.Spec.Text("persistentVolumeReclaimPolicy") ?? string.Empty)
            .Column("Status", "Phase of the volume.", o => o.IsDeleting ? "Terminating" : o.Status.Text("phase") ?? string.Empty)
            .Column("Claim", "The claim bound to the volume (namespace/name).", VolumeClaim)
            .Column("StorageClass", "Storage class of the volume.", o => o.Annotation(BetaStorageClassAnnotation) ?? o.Spec.Text("storageClassName") ?? string.Empty)
            .Column("VolumeAttributesClass", "Volume attributes class of the volume.", o => o.Spec.Text("volumeAttributesClassName") ?? Unset)
            .Column("Reason", "Why the volume is in its phase.", o => o.Status.Text("reason") ?? string.Empty)
            .Age()
            .Wide("VolumeMode", "Filesystem or Block.", o => o.Spec.Text("volumeMode") ?? Unset)
            .Build();

        tables["persistentvolumeclaims"] = new TableBuilder()
            .Name()
            .Column("Status", "Phase of the claim.", o => o.IsDeleting ? "Terminating" : o.Status.Text("phase") ?? string.Empty)
            .Column("Volume", "The volume bound to the claim.", o => o.Spec.Text("volumeName") ?? string.Empty)
            .Column("Capacity", "Capacity of the bound volume.", o => IsBound(o) ? Quantity(o.Status.Field("capacity", "storage")) : string.Empty)
            .Column("Access Modes", "Access modes of the bound volume.", o => IsBound(o) ? AccessModes(o.Status.Field("accessModes")) : string.Empty)
            .Column("StorageClass", "Storage class of the claim.", o => o.Annotation(BetaStorageClassAnnotation) ?? o.Spec.Text("storageClassName") ?? string.Empty)
            .Column("VolumeAttributesClass", "Volume attributes class of the claim.", o => o.Spec.Text("volumeAttributesClassName") ?? Unset)
            .Age()
            .Wide("VolumeMode", "Filesystem or Block.", o => o.Spec.Text("volumeMode") ?? Unset)
            .Build();

        tables["storageclasses.storage.k8s.io"] = new TableBuilder()
            .Name(o => IsDefaultClass(o) ? o.Name + " (default)" : o.Name)
            .Column("Provisioner", "The provisioner of the class's volumes.", o => o.Root.Text("provisioner") ?? string.Empty)
            .Column("ReclaimPolicy", "Reclaim policy of provisioned volumes.", o => o.Root.Text("reclaimPolicy") ?? "Delete")
            .Column("VolumeBindingMode", "When claims are bound and provisioned.", o => o.Root.Text("volumeBindingMode") ?? "Immediate")
            .Column("AllowVolumeExpansion", "Whether claims of the class may grow.", o => o.Root.Flag("allowVolumeExpansion") ?? false)
            .Age()
            .Build();

        tables["volumeattributesclasses.storage.k8s.io"] = new TableBuilder()
            .Name()
            .Column("DriverName", "The CSI driver of the class.", o => o.Root.Text("driverName") ?? string.Empty)
            .Age()
            .Build();

        tables["csidrivers.storage.k8s.io"] = new TableBuilder()
            .Name()
            .Column("AttachRequired", "Whether volumes are attached before they are mounted.", o => o.Spec.Flag("attachRequired") ?? true, "boolean")
            .Column("PodInfoOnMount", "Whether the driver is told about the pod on mount.", o => o.Spec.Flag("podInfoOnMount") ?? false, "boolean")
            .Column("StorageCapacity", "Whether the driver reports storage capacity.", o => o.Spec.Flag("storageCapacity") ?? false, "boolean")
            .Column("TokenRequests", "Audiences of the service account tokens the driver gets.", TokenRequests)
            .Column("RequiresRepublish", "Whether volumes are mounted again periodically.", o => o.Spec.Flag("requiresRepublish") ?? false, "boolean")
            .Column("Modes", "Volume lifecycle modes.", o => o.Spec.Length("volumeLifecycleModes") > 0
                ? string.Join(",", o.Spec.Items("volumeLifecycleModes").Select(m => m.GetString()))
                : None)
            .Age()
            .Build();

        tables["csinodes.storage.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Drivers", "CSI drivers registered on the node.", o => o.Spec.Length("drivers"), "integer")
            .Age()
            .Build();

        tables["csistoragecapacities.storage.k8s.io"] = new TableBuilder()
            .Name()
            .Column("StorageClassName", "Storage class the capacity is for.", o => o.Root.Text("storageClassName") ?? string.Empty)
            .Column("Capacity", "Capacity available.", o => o.Root.Field("capacity").ValueKind == JsonValueKind.Undefined ? Unset : Quantity(o.Root.Field("capacity")))
            .Build();

        tables["volumeattachments.storage.k8s.io"] = new TableBuilder()
            .Name()
            .Column("Attacher", "The attaching driver.", o => o.Spec.Text("attacher") ?? string.Empty, format: "name")
            .Column("PV", "The attached volume.", o => o.Spec.Field("source").Text("persistentVolumeName") ?? string.Empty)
            .Column("Node", "The node the volume is attached to.", o => o.Spec.Text("nodeName") ?? string.Empty)
            .Column("Attached", "Whether the volume is attached.", o => o.Status.Flag("attached") ?? false, "boolean")
            .Age()
            .Build();
    }

    private static bool IsBound(PrintedObject o) => !string.IsNullOrEmpty(o.Spec.Text("volumeName"));

    private static JsonNode VolumeClaim(PrintedObject o)
    {
        var claim = o.Spec.Field("claimRef");
        return claim.ValueKind == JsonValueKind.Object ? claim.Text("namespace") + "/" + claim.Text("name") : string.Empty;
    }

    private static bool IsDefaultClass(PrintedObject o) =>
        o.Annotation("storageclass.kubernetes.io/is-default-class") == "true" || o.Annotation("storageclass.beta.kubernetes.io/is-default-class") == "true";

    private static JsonNode TokenRequests(PrintedObject o) =>
        o.Spec.Field("tokenRequests").ValueKind == JsonValueKind.Array
            ? string.Join(",", o.Spec.Items("tokenRequests").Select(t => t.Text("audience")))
            : Unset;
}
