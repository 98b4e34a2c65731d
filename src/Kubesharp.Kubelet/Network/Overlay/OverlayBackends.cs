namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>The backends' names as flags and Node annotations spell them.</summary>
public static class OverlayBackends
{
    public const string Vxlan = "vxlan";
    public const string HostGw = "host-gw";
    public const string None = "none";

    public static IReadOnlyList<string> Names { get; } = [Vxlan, HostGw, None];

    public static bool TryParse(string? value, out OverlayBackend backend)
    {
        (var known, backend) = value switch
        {
            Vxlan => (true, OverlayBackend.Vxlan),
            HostGw => (true, OverlayBackend.HostGw),
            None => (true, OverlayBackend.None),
            _ => (false, OverlayBackend.None),
        };
        return known;
    }

    public static string Name(OverlayBackend backend) => backend switch
    {
        OverlayBackend.Vxlan => Vxlan,
        OverlayBackend.HostGw => HostGw,
        _ => None,
    };
}
