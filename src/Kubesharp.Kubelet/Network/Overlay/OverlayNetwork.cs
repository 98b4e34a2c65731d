using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Proxy.Iptables;

namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>
/// The node's kernel state for reaching other nodes' pods, programmed with iproute2 (<c>ip</c>, <c>bridge</c>) and
/// iptables. VXLAN: one device carrying the first address of the node's pod range, and per peer a forwarding entry
/// (its device MAC to its node address), a permanent neighbour (its device address to that MAC) and an on-link route
/// for its pod range via that address. host-gw: per peer a route for its pod range via its node address. Both:
/// pod traffic leaving the cluster CIDR is masqueraded and pod traffic is let through the forward chain.
/// </summary>
public sealed class OverlayNetwork(OverlayOptions options)
{
    public OverlayOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>
    /// Creates (or keeps, when it already matches) the VXLAN device and the masquerade and forward rules; returns the
    /// MTU pods must use (the node link's less the VXLAN overhead) and the device's MAC.
    /// </summary>
    public Task<OverlayLink> SetUpAsync(IPAddress nodeIp, string podCidr, CancellationToken cancellationToken) =>
        SetUpAsync(nodeIp, Task.FromResult(podCidr), cancellationToken);

    /// <summary>
    /// As <see cref="SetUpAsync(IPAddress, string, CancellationToken)"/> for a node whose pod CIDR is not assigned yet:
    /// the link, the rules and the device's current state are read and written meanwhile, and only the device's
    /// address waits for the CIDR.
    /// </summary>
    public async Task<OverlayLink> SetUpAsync(IPAddress nodeIp, Task<string> podCidr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeIp);
        ArgumentNullException.ThrowIfNull(podCidr);
        var (linkName, linkMtu) = await FindLinkAsync(nodeIp, cancellationToken);
        // The rules and the device are independent; a node's start waits for both.
        var rules = EnsureRulesAsync(cancellationToken);
        if (Options.Backend != OverlayBackend.Vxlan)
        {
            await rules;
            return new OverlayLink(linkMtu, null);
        }

        var mtu = linkMtu - OverlayOptions.VxlanOverhead;
        var device = SetUpDeviceAsync(nodeIp, linkName, mtu, podCidr, cancellationToken);
        await Task.WhenAll(rules, device);
        return new OverlayLink(mtu, await device);
    }

    /// <summary>Creates or corrects the VXLAN device in one <c>ip -batch</c> (a node's start waits on it); returns its MAC.</summary>
    private async Task<string?> SetUpDeviceAsync(IPAddress nodeIp, string linkName, int mtu, Task<string> podCidr, CancellationToken cancellationToken)
    {
        var device = Options.DeviceName;
        var changes = new List<string>();
        var existing = await ShowDeviceAsync(cancellationToken);
        var address = CniConfigWriter.ParseCidr(await podCidr.WaitAsync(cancellationToken)).Network;
        if (existing is { } shown && !Matches(shown, nodeIp))
        {
            // Another VNI, port or local address: the device is rebuilt rather than half-changed.
            changes.Add($"link del {device}");
            existing = null;
        }

        if (existing is null)
        {
            changes.Add($"link add {device} type vxlan id {Invariant(Options.Vni)} local {nodeIp} dev {linkName} dstport {Invariant(Options.Port)} nolearning");
        }
        else
        {
            changes.AddRange((await DeviceAddressesAsync(cancellationToken))
                .Where(stale => stale != address.ToString())
                .Select(stale => $"addr del {stale}/32 dev {device}"));
        }

        changes.Add($"link set {device} mtu {Invariant(mtu)}");
        changes.Add($"addr replace {address}/32 dev {device}");
        changes.Add($"link set {device} up");
        await CheckAsync(["ip", "-batch", "-"], string.Join('\n', changes) + "\n", cancellationToken);
        if (Options.CommandPrefix.Count == 0 && File.Exists($"/sys/class/net/{device}/address"))
        {
            // The kernel's own record of the device, read without starting a process.
            return (await File.ReadAllTextAsync($"/sys/class/net/{device}/address", cancellationToken)).Trim();
        }

        var result = await ShowDeviceAsync(cancellationToken) ?? throw new IOException($"{device} vanished while it was set up");
        return result.GetProperty("address").GetString();
    }

    /// <summary>Makes the kernel's entries match exactly <paramref name="peers"/>: missing ones added, changed ones replaced, the rest removed.</summary>
    public async Task SyncPeersAsync(IReadOnlyCollection<OverlayPeer> peers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var device = Options.DeviceName;
        var vxlan = Options.Backend == OverlayBackend.Vxlan;
        var wantedRoutes = peers.ToDictionary(p => NormalizedCidr(p.PodCidr), p => vxlan ? p.Gateway.ToString() : p.NodeIp.ToString(), StringComparer.Ordinal);
        foreach (var route in await JsonAsync(["ip", "-j", "route", "show", "proto", Invariant(OverlayOptions.RouteProtocol)], cancellationToken))
        {
            var dst = route.GetProperty("dst").GetString()!;
            var gateway = route.TryGetProperty("gateway", out var g) ? g.GetString() : null;
            if (!wantedRoutes.TryGetValue(dst, out var wanted) || wanted != gateway)
            {
                await RunAsync(["ip", "route", "del", dst, "proto", Invariant(OverlayOptions.RouteProtocol)], cancellationToken);
            }
        }

        if (vxlan)
        {
            var wantedMacs = peers.Where(p => p.VtepMac is not null).ToDictionary(p => p.VtepMac!.ToLowerInvariant(), p => p, StringComparer.Ordinal);
            foreach (var entry in await JsonAsync(["bridge", "-j", "fdb", "show", "dev", device], cancellationToken))
            {
                var mac = entry.GetProperty("mac").GetString()!;
                var dst = entry.TryGetProperty("dst", out var d) ? d.GetString() : null;
                if (dst is not null && (!wantedMacs.TryGetValue(mac, out var peer) || peer.NodeIp.ToString() != dst))
                {
                    await RunAsync(["bridge", "fdb", "del", mac, "dev", device, "dst", dst], cancellationToken);
                }
            }

            var wantedNeighbours = peers.Where(p => p.VtepMac is not null).ToDictionary(p => p.Gateway.ToString(), p => p.VtepMac!.ToLowerInvariant(), StringComparer.Ordinal);
            foreach (var neighbour in await JsonAsync(["ip", "-j", "neigh", "show", "dev", device], cancellationToken))
            {
                var dst = neighbour.GetProperty("dst").GetString()!;
                var mac = neighbour.TryGetProperty("lladdr", out var l) ? l.GetString() : null;
                if (!wantedNeighbours.TryGetValue(dst, out var wanted) || wanted != mac)
                {
                    await RunAsync(["ip", "neigh", "del", dst, "dev", device], cancellationToken);
                }
            }
        }

        foreach (var peer in peers)
        {
            if (vxlan)
            {
                if (peer.VtepMac is not { } mac)
                {
                    continue;
                }

                // The forwarding entry first: the neighbour and route are useless until the MAC has a destination.
                await CheckAsync(["bridge", "fdb", "replace", mac, "dev", device, "dst", peer.NodeIp.ToString(), "self", "permanent"], cancellationToken);
                await CheckAsync(["ip", "neigh", "replace", peer.Gateway.ToString(), "lladdr", mac, "dev", device, "nud", "permanent"], cancellationToken);
                await CheckAsync(["ip", "route", "replace", NormalizedCidr(peer.PodCidr), "via", peer.Gateway.ToString(), "dev", device, "onlink", "proto", Invariant(OverlayOptions.RouteProtocol)], cancellationToken);
            }
            else
            {
                await CheckAsync(["ip", "route", "replace", NormalizedCidr(peer.PodCidr), "via", peer.NodeIp.ToString(), "proto", Invariant(OverlayOptions.RouteProtocol)], cancellationToken);
            }
        }
    }

    /// <summary>Removes the device, the routes to other nodes' pods and the rules (whatever of them exists).</summary>
    public async Task TearDownAsync(CancellationToken cancellationToken)
    {
        await RunAsync(["ip", "route", "flush", "proto", Invariant(OverlayOptions.RouteProtocol)], cancellationToken);
        await RunAsync(["ip", "link", "del", Options.DeviceName], cancellationToken);
        foreach (var (table, hook, chain) in Chains())
        {
            while ((await RunAsync(["iptables", "-w", "-t", table, "-D", hook, "-j", chain], cancellationToken)).ExitCode == 0)
            {
            }

            await RunAsync(["iptables", "-w", "-t", table, "-F", chain], cancellationToken);
            await RunAsync(["iptables", "-w", "-t", table, "-X", chain], cancellationToken);
        }
    }

    private (string Table, string Hook, string Chain)[] Chains() =>
        [("nat", "POSTROUTING", Options.MasqueradeChain), ("filter", "FORWARD", Options.ForwardChain)];

    /// <summary>Masquerades pod traffic that leaves the cluster CIDR (never pod-to-pod), and lets pod traffic be forwarded.</summary>
    private async Task EnsureRulesAsync(CancellationToken cancellationToken)
    {
        var cluster = NormalizedCidr(Options.ClusterCidr);
        var masq = Options.MasqueradeChain;
        var forward = Options.ForwardChain;
        // One save shows whether the hooks already jump to our chains; the missing jumps go into the same restore (a
        // check and an insert per hook would start four more processes on a fresh node, while it starts).
        var (saveExit, saved, saveError) = await RunAsync(["iptables-save"], cancellationToken);
        if (saveExit != 0)
        {
            throw new IOException($"iptables-save failed ({saveExit}): {saveError.Trim()}");
        }

        var rules = SavedRule.Parse(saved).ToList();
        string Jump(string table, string hook, string chain) =>
            rules.Any(r => r.Table == table && r.Chain == hook && r.Target == chain) ? string.Empty : $"-I {hook} 1 -j {chain}\n";

        // Declaring a chain under --noflush empties it, so the rules are replaced in one step.
        var restore = string.Concat(
            "*nat\n",
            $":{masq} - [0:0]\n",
            $"-A {masq} -s {cluster} -d {cluster} -j RETURN\n",
            $"-A {masq} -s {cluster} ! -d 224.0.0.0/4 -j MASQUERADE\n",
            Jump("nat", "POSTROUTING", masq),
            "COMMIT\n",
            "*filter\n",
            $":{forward} - [0:0]\n",
            $"-A {forward} -s {cluster} -j ACCEPT\n",
            $"-A {forward} -d {cluster} -j ACCEPT\n",
            Jump("filter", "FORWARD", forward),
            "COMMIT\n");
        await CheckAsync(["iptables-restore", "-w", "--noflush"], restore, cancellationToken);
    }

    /// <summary>
    /// What <see cref="SetUpAsync"/> should yield as the pods' MTU, from the interface list the runtime reads itself (no
    /// process run); null when no interface holds the node's address that way, or the commands run in another network
    /// namespace than this process.
    /// </summary>
    public OverlayLink? ExpectedLink(IPAddress nodeIp)
    {
        ArgumentNullException.ThrowIfNull(nodeIp);
        if (Options.CommandPrefix.Count > 0 || LinkHolding(nodeIp) is not (not null, var mtu))
        {
            return null;
        }

        return new OverlayLink(Options.Backend == OverlayBackend.Vxlan ? mtu - OverlayOptions.VxlanOverhead : mtu, null);
    }

    /// <summary>The interface of this process's network namespace holding <paramref name="nodeIp"/>, and its MTU.</summary>
    private static (string? Name, int Mtu) LinkHolding(IPAddress nodeIp)
    {
        foreach (var candidate in NetworkInterface.GetAllNetworkInterfaces())
        {
            var properties = candidate.GetIPProperties();
            if (properties.UnicastAddresses.Any(a => a.Address.Equals(nodeIp)) && properties.GetIPv4Properties() is { Mtu: > 0 } ipv4)
            {
                return (candidate.Name, ipv4.Mtu);
            }
        }

        return (null, 0);
    }

    /// <summary>The link holding the node's address, and its MTU.</summary>
    private async Task<(string Name, int Mtu)> FindLinkAsync(IPAddress nodeIp, CancellationToken cancellationToken)
    {
        // In this process's own network namespace the runtime's interface list answers without starting a process.
        if (Options.CommandPrefix.Count == 0 && LinkHolding(nodeIp) is ({ } name, var mtu))
        {
            return (name, mtu);
        }

        var wanted = nodeIp.ToString();
        foreach (var link in await JsonAsync(["ip", "-j", "addr", "show"], cancellationToken))
        {
            if (link.TryGetProperty("addr_info", out var addresses)
                && addresses.EnumerateArray().Any(a => a.TryGetProperty("local", out var local) && local.GetString() == wanted))
            {
                return (link.GetProperty("ifname").GetString()!, link.GetProperty("mtu").GetInt32());
            }
        }

        throw new IOException($"no link holds the node address {nodeIp}");
    }

    private async Task<JsonElement?> ShowDeviceAsync(CancellationToken cancellationToken)
    {
        var (exitCode, stdout, _) = await RunAsync(["ip", "-j", "-d", "link", "show", "dev", Options.DeviceName], cancellationToken);
        if (exitCode != 0)
        {
            return null;
        }

        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).FirstOrDefault();
    }

    private bool Matches(JsonElement device, IPAddress nodeIp) =>
        device.TryGetProperty("linkinfo", out var info)
        && info.TryGetProperty("info_kind", out var kind) && kind.GetString() == "vxlan"
        && info.TryGetProperty("info_data", out var data)
        && data.TryGetProperty("id", out var id) && id.GetInt32() == Options.Vni
        && data.TryGetProperty("port", out var port) && port.GetInt32() == Options.Port
        && data.TryGetProperty("local", out var local) && local.GetString() == nodeIp.ToString();

    private async Task<IReadOnlyList<string>> DeviceAddressesAsync(CancellationToken cancellationToken) =>
        [.. (await JsonAsync(["ip", "-j", "-4", "addr", "show", "dev", Options.DeviceName], cancellationToken))
            .SelectMany(link => link.TryGetProperty("addr_info", out var a) ? a.EnumerateArray().ToArray() : [])
            .Select(a => a.GetProperty("local").GetString()!)];

    private async Task<IReadOnlyList<JsonElement>> JsonAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var (exitCode, stdout, _) = await RunAsync(arguments, cancellationToken);
        if (exitCode != 0 || string.IsNullOrWhiteSpace(stdout))
        {
            return [];
        }

        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.ValueKind == JsonValueKind.Array ? [.. document.RootElement.EnumerateArray().Select(e => e.Clone())] : [];
    }

    private static string NormalizedCidr(string cidr)
    {
        var (network, prefix) = CniConfigWriter.ParseCidr(cidr);
        return $"{network}/{prefix}";
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private Task CheckAsync(string[] arguments, CancellationToken cancellationToken) => CheckAsync(arguments, null, cancellationToken);

    private async Task CheckAsync(string[] arguments, string? input, CancellationToken cancellationToken)
    {
        var (exitCode, _, stderr) = await RunAsync(arguments, input, cancellationToken);
        if (exitCode != 0)
        {
            throw new IOException($"{string.Join(' ', arguments)} failed ({exitCode}): {stderr.Trim()}");
        }
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] arguments, CancellationToken cancellationToken) =>
        RunAsync(arguments, null, cancellationToken);

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] arguments, string? input, CancellationToken cancellationToken)
    {
        string[] all = [.. Options.CommandPrefix, .. arguments];
        return ExternalCommand.RunAsync(all[0], all.Skip(1), input, cancellationToken);
    }
}
