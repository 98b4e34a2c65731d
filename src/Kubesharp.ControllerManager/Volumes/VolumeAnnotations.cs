namespace Kubesharp.ControllerManager.Volumes;

/// <summary>Upstream's annotations and finalizers of the binding protocol between claims, volumes, the scheduler and provisioners.</summary>
public static class VolumeAnnotations
{
    public const string BindCompleted = "pv.kubernetes.io/bind-completed";

    public const string BoundByController = "pv.kubernetes.io/bound-by-controller";

    public const string ProvisionedBy = "pv.kubernetes.io/provisioned-by";

    public const string SelectedNode = "volume.kubernetes.io/selected-node";

    public const string StorageProvisioner = "volume.kubernetes.io/storage-provisioner";

    public const string BetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner";

    public const string ClaimProtection = "kubernetes.io/pvc-protection";

    public const string VolumeProtection = "kubernetes.io/pv-protection";

    public const string NoProvisioner = "kubernetes.io/no-provisioner";

    public const string WaitForFirstConsumer = "WaitForFirstConsumer";
}
