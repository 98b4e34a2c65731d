using Grpc.Core;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Csi.PluginRegistration;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Csi;

/// <summary>
/// The kubelet plugin registration protocol (pluginregistration v1) for CSI drivers: a driver's registrar puts a socket
/// into the registry directory, the agent asks it GetInfo, connects to the CSI endpoint it names, records the driver
/// (NodeGetInfo into CSINode and the Node) and answers NotifyRegistrationStatus; a socket that goes away deregisters
/// the driver. The directory is rescanned on every change and every few seconds, so a registration that failed (a
/// socket that was not accepting yet, an API error) is tried again.
/// </summary>
internal sealed partial class CsiPluginWatcher(string directory, CsiDriverRegistry drivers, CsiNodeWriter nodes, TimeProvider time, ILogger logger)
{
    public const string PluginType = "CSIPlugin";
    private static readonly TimeSpan Rescan = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    // Registration socket → driver name, and sockets whose registration failed (logged once, retried every scan).
    private readonly Dictionary<string, string> registered = new(StringComparer.Ordinal);
    private readonly HashSet<string> failed = new(StringComparer.Ordinal);
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Directory => directory;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(directory);
        using var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
        watcher.Created += (_, _) => Interlocked.Exchange(ref changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        watcher.Deleted += (_, _) => Interlocked.Exchange(ref changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        watcher.EnableRaisingEvents = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            var next = changed.Task;
            await ScanAsync(cancellationToken);
            await Task.WhenAny(next, Task.Delay(Rescan, time, cancellationToken));
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        var sockets = System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var (socket, driver) in registered.Where(r => !sockets.Contains(r.Key)).ToList())
        {
            registered.Remove(socket);
            drivers.Remove(driver);
            LogDeregistered(logger, driver, socket);
            try
            {
                await nodes.RemoveDriverAsync(driver, cancellationToken);
            }
            catch (StatusException e)
            {
                LogNodeUpdateFailed(logger, driver, e.Message);
            }
        }

        failed.IntersectWith(sockets);
        foreach (var socket in sockets.Where(s => !registered.ContainsKey(s)).Order(StringComparer.Ordinal))
        {
            await RegisterAsync(socket, cancellationToken);
        }
    }

    private async Task RegisterAsync(string socket, CancellationToken cancellationToken)
    {
        using var channel = UnixSocketChannel.Create(socket);
        var registrar = new Registration.RegistrationClient(channel);
        PluginInfo info;
        try
        {
            info = await registrar.GetInfoAsync(new InfoRequest(), deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken).CompleteAsync(cancellationToken);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            if (failed.Add(socket))
            {
                LogGetInfoFailed(logger, socket, e.Message);
            }

            return;
        }

        string? error = Validate(info);
        if (error is null)
        {
            var endpoint = info.Endpoint.Length > 0 ? info.Endpoint : socket;
            var client = new CsiDriverClient(endpoint);
            try
            {
                var node = await client.NodeGetInfoAsync(cancellationToken);
                if (node.NodeId.Length == 0)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, "NodeGetInfo answered an empty node ID"));
                }

                var stages = await client.StagesVolumesAsync(cancellationToken);
                var publishes = await client.PublishesToNodesAsync(cancellationToken);
                await nodes.AddDriverAsync(info.Name, node.NodeId, node.AccessibleTopology?.Segments is { } segments ? segments : new Dictionary<string, string>(), node.MaxVolumesPerNode, cancellationToken);
                drivers.Add(new CsiDriver(info.Name, client, node.NodeId, stages, publishes));
                registered[socket] = info.Name;
                failed.Remove(socket);
                LogRegistered(logger, info.Name, endpoint, node.NodeId, stages, publishes);
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException or StatusException)
            {
                client.Dispose();
                error = $"RegisterPlugin error -- plugin registration failed with err: {e.Message}";
            }
        }

        try
        {
            await registrar.NotifyRegistrationStatusAsync(
                new RegistrationStatus { PluginRegistered = error is null, Error = error ?? "" }, deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken).CompleteAsync(cancellationToken);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            // The registrar learns of the outcome on its next attempt; the registration itself stands.
            LogNotifyFailed(logger, socket, e.Message);
        }

        if (error is not null && failed.Add(socket))
        {
            LogRegistrationFailed(logger, socket, error);
        }
    }

    /// <summary>Why the agent refuses a plugin's info, or null: only CSI drivers speaking a CSI 1.x version.</summary>
    internal static string? Validate(PluginInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Type != PluginType)
        {
            return $"plugin type {info.Type} is not supported by this node (only {PluginType})";
        }

        if (info.Name.Length == 0)
        {
            return "RegisterPlugin error -- plugin name is empty";
        }

        return info.SupportedVersions.Any(IsVersion1)
            ? null
            : $"RegisterPlugin error -- none of the versions specified [{string.Join(" ", info.SupportedVersions)}] are supported";
    }

    private static bool IsVersion1(string version)
    {
        var major = version.TrimStart('v').Split('.')[0];
        return major == "1";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "CSI driver {Driver} registered: endpoint {Endpoint}, node ID {NodeId}, stages volumes {Stages}, publishes to nodes {Publishes}")]
    private static partial void LogRegistered(ILogger logger, string driver, string endpoint, string nodeId, bool stages, bool publishes);

    [LoggerMessage(Level = LogLevel.Information, Message = "CSI driver {Driver} deregistered: socket {Socket} is gone")]
    private static partial void LogDeregistered(ILogger logger, string driver, string socket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GetInfo on plugin socket {Socket} failed: {Error}")]
    private static partial void LogGetInfoFailed(ILogger logger, string socket, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "plugin on socket {Socket} was not registered: {Error}")]
    private static partial void LogRegistrationFailed(ILogger logger, string socket, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NotifyRegistrationStatus on plugin socket {Socket} failed: {Error}")]
    private static partial void LogNotifyFailed(ILogger logger, string socket, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "removing CSI driver {Driver} from the node failed: {Error}")]
    private static partial void LogNodeUpdateFailed(ILogger logger, string driver, string error);
}
