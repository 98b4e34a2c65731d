using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Dns;
using Kubesharp.Kubelet;
using Kubesharp.Proxy;
using Kubesharp.Proxy.NetworkPolicies;
using Microsoft.Extensions.Logging;

namespace Kubesharp.NodeAgents;

/// <summary>
/// A node: the kubelet, the service proxy, NetworkPolicy enforcement and node-local cluster DNS, started and stopped
/// together. Stopping removes the policy and proxy rules and the DNS link; containers keep running (the next start adopts them).
/// </summary>
internal sealed partial class NodeAgent : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly CancellationTokenSource policiesStopping = new();
    private readonly SharedInformerFactory proxyInformers;
    private readonly SharedInformerFactory dnsInformers;
    private readonly ILogger logger;
    private Task proxyRun = Task.CompletedTask;
    private Task dnsRun = Task.CompletedTask;
    private Task policiesRun = Task.CompletedTask;
    private bool stopped;

    private NodeAgent(NodeAgentOptions options, NodeAgentClients clients, Task<Kubelet.Runtime.ContainerRuntime>? startingRuntime, ILoggerFactory loggerFactory)
    {
        logger = loggerFactory.CreateLogger<NodeAgent>();
        // The proxy and DNS watch under their own identities where they have them, so each has its own informers (the
        // objects themselves are shared with the other informers of the process). Neither reads managedFields.
        proxyInformers = new SharedInformerFactory(clients.Proxy, loggerFactory: loggerFactory) { TrimManagedFields = true };
        dnsInformers = new SharedInformerFactory(clients.Dns, loggerFactory: loggerFactory) { TrimManagedFields = true };
        Kubelet = new KubeletService(options.Kubelet, clients.Kubelet, loggerFactory) { ClientCaPem = options.ClientCaPem, EndpointToken = options.EndpointToken, StartingRuntime = startingRuntime, ProvisionerClient = clients.Provisioner, AttacherClient = clients.Attacher };
        Proxy = new ServiceProxy(proxyInformers, options.Proxy, loggerFactory.CreateLogger<ServiceProxy>());
        // Enforcement shares the proxy's identity, informers and chain prefix.
        NetworkPolicies = options.EnforceNetworkPolicies
            ? new NetworkPolicyController(proxyInformers, NetworkPolicyOptions.For(options.Proxy), loggerFactory.CreateLogger<NetworkPolicyController>())
            : null;
        Options = options;
    }

    public NodeAgentOptions Options { get; }

    public KubeletService Kubelet { get; }

    public ServiceProxy Proxy { get; }

    /// <summary>NetworkPolicy enforcement on this node; null when turned off.</summary>
    public NetworkPolicyController? NetworkPolicies { get; }

    /// <summary>
    /// Completes once the kubelet is up (its Ready status written, its pod workers running) and the proxy's and DNS's
    /// informers have listed; fails when the kubelet could not start.
    /// </summary>
    public Task Synced { get; private set; } = Task.CompletedTask;

    /// <summary>Starts the kubelet (which readies asynchronously, see <see cref="KubeletService.Ready"/>), the proxy and DNS.</summary>
    public static Task<NodeAgent> StartAsync(NodeAgentOptions options, KubernetesClient client, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        StartAsync(options, new NodeAgentClients(client, client, client, client, client), null, loggerFactory, cancellationToken);

    /// <param name="clients">The kubelet's, the proxy's and DNS's clients (the node's own for all three on a joined node).</param>
    /// <param name="startingRuntime">A container runtime already being started for this node (see <see cref="StartingContainerRuntime"/>).</param>
    public static async Task<NodeAgent> StartAsync(NodeAgentOptions options, NodeAgentClients clients, StartingContainerRuntime? startingRuntime, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        await NodeKernelSettings.ApplyAsync(loggerFactory.CreateLogger<NodeAgent>(), cancellationToken).ConfigureAwait(false);
        var agent = new NodeAgent(options, clients, startingRuntime?.HandOver(), loggerFactory);
        var proxySynced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        agent.Proxy.Synced += () => proxySynced.TrySetResult();
        await agent.Kubelet.StartAsync(cancellationToken).ConfigureAwait(false);
        // The proxy and DNS change the host (rules, a link): only on a node whose kubelet came up.
        agent.proxyRun = agent.RunLoggedAsync("service proxy", ct => agent.AfterKubeletUpAsync(agent.Proxy.RunAsync, ct));
        if (agent.NetworkPolicies is { } policies)
        {
            agent.policiesRun = agent.RunLoggedAsync("network policy enforcement", ct => agent.AfterKubeletUpAsync(policies.RunAsync, ct), agent.policiesStopping.Token);
        }
        if (options.Dns is { } dns)
        {
            var dnsLogger = loggerFactory.CreateLogger<ClusterDnsServer>();
            agent.dnsRun = agent.RunLoggedAsync("cluster DNS", ct => agent.AfterKubeletUpAsync(c => ClusterDns.RunAsync(agent.dnsInformers, dns, dnsLogger, c), ct));
        }

        agent.Synced = agent.WaitForSyncAsync(proxySynced.Task);
        return agent;
    }

    private async Task AfterKubeletUpAsync(Func<CancellationToken, Task> run, CancellationToken cancellationToken)
    {
        try
        {
            await Kubelet.Up.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // The kubelet reported its own failure; the node's readiness says so.
            return;
        }

        await run(cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitForSyncAsync(Task proxySynced)
    {
        await Kubelet.Up.ConfigureAwait(false);
        if (await Task.WhenAny(proxySynced, proxyRun).WaitAsync(stopping.Token).ConfigureAwait(false) != proxySynced)
        {
            throw new InvalidOperationException("the service proxy stopped before it first programmed the node's rules (see the log)");
        }

        await proxyInformers.WaitForCacheSyncAsync(stopping.Token).ConfigureAwait(false);
        if (Options.Dns is not null)
        {
            await dnsInformers.WaitForCacheSyncAsync(stopping.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the kubelet, then the proxy (removing its rules) and DNS (removing its link).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (stopped)
        {
            return;
        }

        stopped = true;
        await Kubelet.StopAsync(cancellationToken).ConfigureAwait(false);
        // Policies first: their cleanup and the proxy's both touch chains under the one prefix.
        await policiesStopping.CancelAsync().ConfigureAwait(false);
        await policiesRun.ConfigureAwait(false);
        await stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(proxyRun, dnsRun).ConfigureAwait(false);
        await proxyInformers.DisposeAsync().ConfigureAwait(false);
        await dnsInformers.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Kubelet.Dispose();
        stopping.Dispose();
        policiesStopping.Dispose();
    }

    private Task RunLoggedAsync(string component, Func<CancellationToken, Task> run, CancellationToken? token = null) => Task.Run(async () =>
    {
        var cancellation = token ?? stopping.Token;
        try
        {
            await run(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogComponentFailed(logger, component, e);
        }
    });

    [LoggerMessage(Level = LogLevel.Error, Message = "The node's {Component} stopped")]
    private static partial void LogComponentFailed(ILogger logger, string component, Exception exception);
}
