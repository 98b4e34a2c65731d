namespace Kubesharp.Api.Core.V1;

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

    public const string DefaultClass = "storageclass.kubernetes.io/is-default-class";

    /// <summary>The built-in local-path provisioner's name, k3s's, so manifests written for k3s work unchanged.</summary>
    public const string LocalPathProvisioner = "rancher.io/local-path";
}
