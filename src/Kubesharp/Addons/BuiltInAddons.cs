namespace Kubesharp.Addons;

/// <summary>
/// The add-ons the server runs itself, by the names <c>--disable</c> takes (k3s's spelling; <c>traefik</c>, k3s's
/// ingress controller, names the built-in one too). Any other name only skips the manifest file of that name.
/// </summary>
internal static class BuiltInAddons
{
    /// <summary>The kube-dns Service and the nodes' cluster DNS server.</summary>
    public const string CoreDns = "coredns";

    /// <summary>The status (addresses) of LoadBalancer Services.</summary>
    public const string ServiceLb = "servicelb";

    /// <summary>The default local-path StorageClass.</summary>
    public const string LocalStorage = "local-storage";

    /// <summary>The built-in ingress controller and its default IngressClass.</summary>
    public const string Ingress = "ingress";

    public const string Traefik = "traefik";

    public static IReadOnlyList<string> Names { get; } = [CoreDns, ServiceLb, LocalStorage, Ingress, Traefik];
}
