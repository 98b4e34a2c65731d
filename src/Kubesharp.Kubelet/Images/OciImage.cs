namespace Kubesharp.Kubelet.Images;

/// <summary>A single-platform image: its manifest, config and layers, and the name it is known by.</summary>
public sealed class OciImage
{
    public OciImage(string name, OciBlob manifest, OciBlob config, IReadOnlyList<OciBlob> layers)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Manifest = manifest;
        Config = config;
        Layers = layers;
    }

    /// <summary>The fully qualified reference, e.g. "docker.io/kubesharp/busybox:test".</summary>
    public string Name { get; }

    public OciBlob Manifest { get; }

    public OciBlob Config { get; }

    public IReadOnlyList<OciBlob> Layers { get; }

    /// <summary>The tag part of <see cref="Name"/> ("latest" when there is none).</summary>
    public string Tag
    {
        get
        {
            var slash = Name.LastIndexOf('/');
            var colon = Name.LastIndexOf(':');
            return colon > slash ? Name[(colon + 1)..] : "latest";
        }
    }

    /// <summary>The name without its tag, e.g. "docker.io/kubesharp/busybox".</summary>
    public string Repository
    {
        get
        {
            var slash = Name.LastIndexOf('/');
            var colon = Name.LastIndexOf(':');
            return colon > slash ? Name[..colon] : Name;
        }
    }

    public IEnumerable<OciBlob> Blobs => Layers.Append(Config).Append(Manifest);
}
