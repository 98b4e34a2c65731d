namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>
/// An image name taken apart the way container runtimes normalise it: the registry host (docker.io when the first
/// part is no host), the repository (docker.io's single names under <c>library/</c>), and the tag or digest suffix
/// (<c>:latest</c> when there is neither).
/// </summary>
public sealed record ImageReference(string Registry, string Repository, string Suffix)
{
    /// <summary>The fully qualified name, as containerd stores it.</summary>
    public override string ToString() => $"{Registry}/{Repository}{Suffix}";

    public static ImageReference Parse(string image)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        var slash = image.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? "" : image[..slash];
        var hasHost = first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost";
        var registry = hasHost ? first : "docker.io";
        var rest = hasHost ? image[(slash + 1)..] : image;
        var digest = "";
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[at..];
            rest = rest[..at];
        }

        var colon = rest.IndexOf(':', rest.LastIndexOf('/') + 1);
        var tag = colon >= 0 ? rest[colon..] : digest.Length > 0 ? "" : ":latest";
        rest = colon >= 0 ? rest[..colon] : rest;
        var suffix = tag + digest;

        if (registry == "docker.io" && !rest.Contains('/', StringComparison.Ordinal))
        {
            rest = "library/" + rest;
        }

        return new ImageReference(registry, rest, suffix);
    }
}
