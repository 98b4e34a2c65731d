namespace Kubesharp.Kubelet.Images;

/// <summary>Media types and annotations of the OCI image format that images built here use.</summary>
public static class OciMediaTypes
{
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string Layer = "application/vnd.oci.image.layer.v1.tar";
    public const string LayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// <summary>The tag of a manifest in an OCI layout index.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>The full image name containerd gives an imported manifest.</summary>
    public const string ContainerdImageNameAnnotation = "io.containerd.image.name";
}
