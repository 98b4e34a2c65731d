using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kubesharp.Api.Core.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Network.Overlay;

/// <summary>
/// Keeps this node's overlay in step with the cluster: publishes how to reach its pods as annotations on its Node,
/// watches every Node and programs <see cref="OverlayNetwork"/> with the others (level-triggered: each change
/// re-reads all Nodes from the cache). Stopping removes what it programmed.
/// </summary>
public sealed partial class OverlayController
{
    private readonly KubernetesClient client;
    private readonly string nodeName;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Channel<bool> changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private IPAddress? nodeIp;
    private OverlayLink? link;

    public OverlayController(KubernetesClient client, string nodeName, OverlayNetwork network, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(network);
        this.client = client;
        this.nodeName = nodeName;
        this.time = time;
        this.logger = logger;
        Network = network;
    }

    public OverlayNetwork Network { get; }

    /// <summary>The link set up by <see cref="SetUpAsync"/>; null before.</summary>
    public OverlayLink? Link => link;

    /// <summary>Sets up this node's side (device, rules); the pod MTU comes from the result.</summary>
    public Task<OverlayLink> SetUpAsync(IPAddress nodeAddress, string podCidr, CancellationToken cancellationToken) =>
        SetUpAsync(nodeAddress, Task.FromResult(podCidr), cancellationToken);

    /// <summary>Sets up this node's side while its pod CIDR may still be on its way (only the device's address waits for it).</summary>
    public async Task<OverlayLink> SetUpAsync(IPAddress nodeAddress, Task<string> podCidr, CancellationToken cancellationToken)
    {
        link = await Network.SetUpAsync(nodeAddress, podCidr, cancellationToken);
        nodeIp = nodeAddress;
        LogSetUp(logger, Network.Options.Backend, nodeAddress, link.Mtu);
        return link;
    }

    /// <summary>Publishes this node's annotations and programs the peers until cancelled, then removes the overlay.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (link is null || nodeIp is null)
        {
            throw new InvalidOperationException("The overlay runs only after it was set up.");
        }

        var informer = new SharedInformer<Node>(client.Resource<Node>(), null, time, logger);
        informer.AddEventHandler(
            onAdd: _ => changes.Writer.TryWrite(true),
            onUpdate: (old, current) =>
            {
                if (Relevant(old) != Relevant(current))
                {
                    changes.Writer.TryWrite(true);
                }
            },
            onDelete: _ => changes.Writer.TryWrite(true));
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var informerRun = informer.RunAsync(stopping.Token);
        try
        {
            await informer.WaitForSyncAsync(cancellationToken);
            changes.Writer.TryWrite(true);
            while (await changes.Reader.WaitToReadAsync(cancellationToken))
            {
                changes.Reader.TryRead(out _);
                try
                {
                    await SyncAsync(informer.Lister.List(), cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    LogSyncFailed(logger, e);
                    await Task.Delay(TimeSpan.FromSeconds(2), time, cancellationToken);
                    changes.Writer.TryWrite(true);
                }
            }
        }
        finally
        {
            await stopping.CancelAsync();
            try
            {
                await informerRun;
            }
            catch (OperationCanceledException)
            {
            }

            await Network.TearDownAsync(CancellationToken.None);
            LogRemoved(logger, Network.Options.DeviceName);
        }
    }

    private async Task SyncAsync(IReadOnlyList<Node> nodes, CancellationToken cancellationToken)
    {
        var own = nodes.FirstOrDefault(n => n.Metadata?.Name == nodeName);
        var annotations = Annotations();
        if (own is not null && annotations.Any(a => own.Metadata?.Annotations?.GetValueOrDefault(a.Key) != a.Value))
        {
            var patch = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject(annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)JsonValue.Create(a.Value)))) } };
            await client.Resource<Node>().PatchAsync(null, nodeName, PatchType.Merge, patch.ToJsonString(), cancellationToken: cancellationToken);
        }

        var peers = nodes.Where(n => n.Metadata?.Name != nodeName).Select(n => PeerOf(n, Network.Options.Backend)).OfType<OverlayPeer>().ToList();
        await Network.SyncPeersAsync(peers, cancellationToken);
        LogSynced(logger, peers.Count);
    }

    private Dictionary<string, string> Annotations()
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [OverlayOptions.BackendTypeAnnotation] = OverlayBackends.Name(Network.Options.Backend),
            [OverlayOptions.PublicIpAnnotation] = nodeIp!.ToString(),
        };
        if (link?.VtepMac is { } mac)
        {
            annotations[OverlayOptions.BackendDataAnnotation] = new JsonObject { ["VNI"] = Network.Options.Vni, ["VtepMAC"] = mac }.ToJsonString();
        }

        return annotations;
    }

    /// <summary>
    /// What this node needs to reach <paramref name="node"/>'s pods; null while the node lacks a pod range, an
    /// address or (VXLAN) its published device MAC, or runs another backend.
    /// </summary>
    public static OverlayPeer? PeerOf(Node node, OverlayBackend backend)
    {
        ArgumentNullException.ThrowIfNull(node);
        var annotations = node.Metadata?.Annotations;
        var address = annotations?.GetValueOrDefault(OverlayOptions.PublicIpAnnotation)
            ?? node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address;
        if (node.Metadata?.Name is not { } name || node.Spec?.PodCIDR is not { Length: > 0 } podCidr || !IPAddress.TryParse(address, out var ip)
            || annotations?.GetValueOrDefault(OverlayOptions.BackendTypeAnnotation) != OverlayBackends.Name(backend))
        {
            return null;
        }

        try
        {
            _ = CniConfigWriter.ParseCidr(podCidr);
        }
        catch (FormatException)
        {
            return null;
        }

        if (backend != OverlayBackend.Vxlan)
        {
            return new OverlayPeer(name, ip, podCidr, null);
        }

        return VtepMac(annotations.GetValueOrDefault(OverlayOptions.BackendDataAnnotation)) is { } mac ? new OverlayPeer(name, ip, podCidr, mac) : null;
    }

    private static string? VtepMac(string? backendData)
    {
        if (backendData is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(backendData);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("VtepMAC", out var mac) && mac.ValueKind == JsonValueKind.String
                && System.Net.NetworkInformation.PhysicalAddress.TryParse(mac.GetString(), out _)
                ? mac.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The parts of a Node the overlay depends on; status heartbeats change none of them.</summary>
    private static (string?, string?, string?, string?, string?) Relevant(Node node) =>
        (node.Spec?.PodCIDR,
         node.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address,
         node.Metadata?.Annotations?.GetValueOrDefault(OverlayOptions.BackendTypeAnnotation),
         node.Metadata?.Annotations?.GetValueOrDefault(OverlayOptions.BackendDataAnnotation),
         node.Metadata?.Annotations?.GetValueOrDefault(OverlayOptions.PublicIpAnnotation));

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod network between nodes: {Backend} from {NodeIp}, pod MTU {Mtu}")]
    private static partial void LogSetUp(ILogger logger, OverlayBackend backend, IPAddress nodeIp, int mtu);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pod network reaches {Count} other nodes")]
    private static partial void LogSynced(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not program the routes to other nodes' pods; retrying")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod network between nodes removed ({Device})")]
    private static partial void LogRemoved(ILogger logger, string device);
}
