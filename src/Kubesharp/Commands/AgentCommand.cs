using System.CommandLine;
using Kubesharp.Client;
using Kubesharp.Kubelet;
using Kubesharp.Kubelet.Network.Overlay;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.NodeAgents;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Commands;

/// <summary><c>kubesharp agent</c>: a node that joins a server with its token, and the in-process agent of <c>kubesharp server</c>.</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "The API server's URL (https://HOST:6443).", Required = true };
        var token = new Option<string>("--token") { Description = "The join token (K10<ca-hash>::<credentials>, from `kubesharp token create`); its hash pins the server's CA. With a bootstrap token (<id>.<secret>) the node asks for its own client certificate and acts as system:node:NAME.", Required = true };
        var caFile = new Option<string?>("--certificate-authority") { Description = "PEM file of the server's CA (DATA/server/tls/ca.crt); needed only with a token that pins no CA." };
        var dataDir = new Option<string>("--data-dir") { Description = "The agent's directory (pods, containerd, CNI state).", DefaultValueFactory = _ => Path.Combine(ApiServer.ApiServerOptions.DefaultDataDir, "agent") };
        var nodeName = new Option<string?>("--node-name") { Description = "The Node's name (default: the host name)." };
        var nodeIp = new Option<string?>("--node-ip") { Description = "The node's InternalIP (default: the first non-loopback IPv4 address)." };
        var podCidr = new Option<string?>("--pod-cidr") { Description = "The node's pod CIDR (default: the one the server's node IPAM controller assigns)." };
        var endpoint = new Option<string?>("--container-runtime-endpoint") { Description = "Use this CRI endpoint instead of running containerd." };
        var port = new Option<int>("--kubelet-port") { Description = "HTTPS port of the agent's endpoint (logs).", DefaultValueFactory = _ => 10250 };
        var clusterCidr = new Option<string>("--cluster-cidr") { Description = "The cluster's pod network (service traffic from outside it is masqueraded).", DefaultValueFactory = _ => DefaultClusterCidr };
        var clusterDns = new Option<string>("--cluster-dns") { Description = "The cluster DNS address, served on this node and written into pods' resolv.conf.", DefaultValueFactory = _ => Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.ClusterDnsIp };
        var localStorage = new Option<string?>("--default-local-storage-path") { Description = "Where the local-path provisioner keeps volume directories (default: DATA/storage)." };
        var devicePlugins = new Option<string?>("--device-plugins-dir") { Description = "Where device plugins find the agent's kubelet.sock and put their sockets (default: DATA/device-plugins)." };
        var clusterDomain = new Option<string>("--cluster-domain") { Description = "The cluster's DNS domain: services are SERVICE.NAMESPACE.svc.DOMAIN, and pods search it.", DefaultValueFactory = _ => ClusterDomain.Default };

        var flannelBackend = FlannelBackendOption();
        var simulatedNodes = new Option<int>("--simulated-nodes") { Description = "Serve this many simulated nodes (no containerd) instead of a real node: capacity planning and failover drills from a separate process." };
        var privateRegistry = NewPrivateRegistryOption();

        var command = new Command("agent", "Run a node that joins a Kubesharp server.")
        {
            server, token, caFile, dataDir, nodeName, nodeIp, podCidr, endpoint, port, clusterCidr, clusterDns, clusterDomain, localStorage, devicePlugins, flannelBackend, simulatedNodes, privateRegistry,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            // Before the first TLS connection is made: it reads the system's trusted certificates.
            Security.SystemTrustStore.ReadEachCertificateOnce(Path.Combine(Path.GetFullPath(result.GetValue(dataDir)!), Security.SystemTrustStore.StateDirectoryName));
            if (!TryLoadRegistries(result.GetValue(privateRegistry)))
            {
                return 2;
            }

            // The server is always verified: against the given CA, or the one it serves when that matches the token's pin.
            var serverUrl = new Uri(result.GetValue(server)!);
            var (pinnedHash, credentials) = Kubesharp.ApiServer.Security.JoinToken.Parse(result.GetValue(token)!);
            string trustedCa;
            try
            {
                var givenCa = result.GetValue(caFile) is { } ca ? await File.ReadAllTextAsync(ca, cancellationToken).ConfigureAwait(false) : null;
                trustedCa = await ClusterCaDiscovery.ResolveAsync(serverUrl, pinnedHash, givenCa, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ClusterCaMismatchException or HttpRequestException or IOException or TaskCanceledException)
            {
                await Console.Error.WriteLineAsync($"kubesharp: refusing to join {serverUrl}: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            using var loggerFactory = Logging.LogOptions.CreateLoggerFactory(result);
            // Every request goes through the loopback balancer, which follows the cluster's servers.
            await using var balancer = ApiServerLoadBalancer.Start(serverUrl, loggerFactory.CreateLogger("Kubesharp.NodeAgents.ApiServerLoadBalancer"));
            var clientOptions = new KubernetesClientOptions
            {
                Server = balancer.Url,
                BearerToken = credentials,
                CertificateAuthorityPem = trustedCa,
                UserAgent = "kubesharp-agent",
            };
            if (!System.Net.IPAddress.TryParse(result.GetValue(clusterDns), out var dnsAddress))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --cluster-dns {result.GetValue(clusterDns)} is not an IP address").ConfigureAwait(false);
                return 2;
            }

            if (!ClusterDomain.TryParse(result.GetValue(clusterDomain), out var domain))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --cluster-domain {result.GetValue(clusterDomain)} is not a DNS name").ConfigureAwait(false);
                return 2;
            }

            var kubelet = NewOptions(
                Path.GetFullPath(result.GetValue(dataDir)!), result.GetValue(nodeName), result.GetValue(nodeIp), result.GetValue(podCidr),
                result.GetValue(endpoint), result.GetValue(port), dnsAddress, domain, result.GetValue(localStorage) is { } storagePath ? Path.GetFullPath(storagePath) : null,
                result.GetValue(devicePlugins) is { } pluginsDir ? Path.GetFullPath(pluginsDir) : null,
                OverlayFor(result.GetValue(flannelBackend)!, result.GetValue(clusterCidr)!), result.GetValue(privateRegistry));
            var options = NodeAgentOptions.Create(kubelet, result.GetValue(clusterCidr)!, NodeAgentOptions.DefaultDnsInterface) with { EndpointToken = clientOptions.BearerToken };
            if (Kubesharp.ApiMachinery.BootstrapTokens.BootstrapToken.TryParse(credentials, out _, out _))
            {
                // A bootstrap token only asks for the node's own certificate; from then on the node acts as system:node:NAME.
                try
                {
                    var (certificatePem, keyPem) = await NodeClientBootstrap.ObtainAsync(
                        clientOptions, kubelet.ResolvedNodeName, kubelet.DataDir, TimeProvider.System, loggerFactory.CreateLogger("Kubesharp.NodeAgents.NodeClientBootstrap"),
                        NodeClientBootstrap.DefaultWaitTimeout, cancellationToken).ConfigureAwait(false);
                    clientOptions = clientOptions with { BearerToken = null, ClientCertificatePem = certificatePem, ClientKeyPem = keyPem };
                    // The API server reaches this node's endpoint with its CA-issued client certificate.
                    options = options with { EndpointToken = null, ClientCaPem = trustedCa };
                }
                catch (Exception e) when (e is Kubesharp.ApiMachinery.Errors.StatusException or HttpRequestException or TimeoutException or CertificateRequestRefusedException)
                {
                    await Console.Error.WriteLineAsync($"kubesharp: could not get a node certificate from {serverUrl}: {e.Message}").ConfigureAwait(false);
                    return 1;
                }
            }

            using var client = new KubernetesClient(clientOptions);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                // A signal can arrive while the process is already shutting down and the source is gone.
                try
                {
                    stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            });
            var servers = balancer.KeepServersAsync(client, TimeSpan.FromSeconds(10), TimeProvider.System, stop.Token);
            // The memory policy the server's process runs: an agent allocates slowly too, and would otherwise hold a
            // young generation sized from the processor's cache.
            var memoryLogger = loggerFactory.CreateLogger("Kubesharp.NodeAgents.ProcessMemory");
            var memory = ApiServer.Memory.ProcessMemory.RunAsync(TimeProvider.System, memoryLogger, stop.Token);
            if (result.GetValue(simulatedNodes) > 0)
            {
                var code = await RunSimulatedAsync(client, result.GetValue(simulatedNodes), $"{kubelet.ResolvedNodeName}-sim-", servers, memoryLogger, loggerFactory, stop.Token).ConfigureAwait(false);
                await memory.ConfigureAwait(false);
                return code;
            }

            var agent = await NodeAgent.StartAsync(options, client, loggerFactory, stop.Token).ConfigureAwait(false);
            await using var agentLifetime = agent.ConfigureAwait(false);
            try
            {
                await agent.Kubelet.Ready.WaitAsync(stop.Token).ConfigureAwait(false);
                await ApiServer.Memory.ProcessMemory.ReleaseStartupMemoryAsync(TimeProvider.System, memoryLogger, stop.Token).ConfigureAwait(false);
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await Console.Error.WriteLineAsync($"kubesharp: the agent could not start: {e.Message}").ConfigureAwait(false);
                return 1;
            }
            finally
            {
                await agent.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await servers.ConfigureAwait(false);
                await memory.ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static async Task<int> RunSimulatedAsync(KubernetesClient client, int count, string namePrefix, Task servers, ILogger memoryLogger, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        using var simulated = new Kubesharp.Kubelet.Simulation.SimulatedNodeHost(
            client, new Kubesharp.Kubelet.Simulation.SimulatedNodeOptions { Count = count, NamePrefix = namePrefix }, TimeProvider.System, loggerFactory.CreateLogger<Kubesharp.Kubelet.Simulation.SimulatedNodeHost>());
        try
        {
            await simulated.StartAsync(cancellationToken).ConfigureAwait(false);
            await simulated.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"kubesharp: {count} simulated nodes ready").ConfigureAwait(false);
            await ApiServer.Memory.ProcessMemory.ReleaseStartupMemoryAsync(TimeProvider.System, memoryLogger, cancellationToken).ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await simulated.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await servers.ConfigureAwait(false);
        return 0;
    }

    /// <summary>How pods reach other nodes' pods (k3s's flag and values); <c>server</c> and <c>agent</c> both take it.</summary>
    public static Option<string> FlannelBackendOption()
    {
        var option = new Option<string>("--flannel-backend")
        {
            Description = $"How pods reach pods on other nodes: {OverlayBackends.Vxlan} (a VXLAN device, UDP {OverlayOptions.DefaultPort}), {OverlayBackends.HostGw} (routes via the other nodes' addresses; nodes on one link) or {OverlayBackends.None}.",
            DefaultValueFactory = _ => OverlayBackends.Vxlan,
        };
        option.AcceptOnlyFromAmong([.. OverlayBackends.Names]);
        return option;
    }

    private static OverlayOptions? OverlayFor(string backend, string clusterCidr) =>
        OverlayBackends.TryParse(backend, out var parsed) && parsed != OverlayBackend.None ? new OverlayOptions { Backend = parsed, ClusterCidr = clusterCidr } : null;

    /// <summary>The cluster's pod network; each node's pod CIDR is a /24 of it.</summary>
    public const string DefaultClusterCidr = Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.ClusterCidr;

    /// <summary>Starts the containerd of the server's own node ahead of the node (see <see cref="StartingContainerRuntime"/>).</summary>
    public static StartingContainerRuntime StartInProcessRuntime(string serverDataDir, string? registriesFile, ILoggerFactory loggerFactory, CancellationToken cancellationToken) =>
        StartingContainerRuntime.Start(Path.Combine(serverDataDir, ContainerdImageImporter.ServerNodeDirectory), registriesFile, loggerFactory, cancellationToken);

    /// <summary><c>--private-registry</c>, as k3s names it: the node's registries.yaml.</summary>
    public static Option<string> NewPrivateRegistryOption() => new("--private-registry")
    {
        Description = "The node's registries.yaml: registry mirrors (mirrors.NAME.endpoint) and per-host credentials and TLS (configs.HOST.auth, configs.HOST.tls); a missing file is none.",
        DefaultValueFactory = _ => Kubelet.Runtime.Registries.RegistriesConfiguration.DefaultPath,
    };

    /// <summary>Reads the registries file once before anything starts, so a malformed one stops the command with its reason.</summary>
    public static bool TryLoadRegistries(string? path)
    {
        try
        {
            Kubelet.Runtime.Registries.RegistriesConfiguration.Load(path);
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"kubesharp: --private-registry {path}: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// The server's own node: talks to the API like a remote agent, through the in-process transport under its kubelet's,
    /// proxy's, DNS's, provisioner's and CSI attacher's identities; its files live in DATA/agent and its pods get addresses from the pod CIDR the node IPAM controller assigns. It runs the
    /// service proxy and (<paramref name="serveDns"/>) serves cluster DNS for <paramref name="clusterDomain"/> on <paramref name="clusterDns"/>.
    /// </summary>
    public static async Task<NodeAgent> StartInProcessAsync(ApiServer.ApiServerHost server, string clusterCidr, string flannelBackend, System.Net.IPAddress clusterDns, string clusterDomain, bool serveDns, StartingContainerRuntime? runtime, ILoggerFactory loggerFactory, CancellationToken cancellationToken, string? localStorageDir = null)
    {
        // The node's InternalIP is the address the API server advertises (and so listens on), when that is reachable.
        var nodeIp = server.Options.AdvertiseAddress is { } advertised && !System.Net.IPAddress.IsLoopback(advertised) ? advertised.ToString() : null;
        var kubelet = NewOptions(Path.Combine(server.Options.DataDir, ContainerdImageImporter.ServerNodeDirectory), null, nodeIp, null, null, 10250, clusterDns, clusterDomain, localStorageDir, null, OverlayFor(flannelBackend, clusterCidr));
        // Without the coredns add-on, pods still resolve through the cluster DNS address; something else serves it.
        var options = NodeAgentOptions.Create(kubelet, clusterCidr, serveDns ? NodeAgentOptions.DefaultDnsInterface : null) with { ClientCaPem = server.Certificates.CaPem };
        // The kubelet as system:node:NAME, the proxy as system:kube-proxy, DNS as system:coredns, the provisioner and the CSI attacher as themselves.
        var clients = new NodeAgentClients(
            Identities.ComponentClient.Create(server, ApiServer.Security.ComponentIdentities.NodeUser(kubelet.ResolvedNodeName), "kubesharp-agent"),
            Identities.ComponentClient.Create(server, ApiServer.Security.ComponentIdentities.Proxy, "kube-proxy"),
            Identities.ComponentClient.Create(server, ApiServer.Security.ComponentIdentities.Dns, "coredns"),
            Identities.ComponentClient.Create(server, ApiServer.Security.ComponentIdentities.LocalPathProvisioner, "local-path-provisioner"),
            Identities.ComponentClient.Create(server, ApiServer.Security.ComponentIdentities.CsiAttacher, "csi-attacher"));
        return await NodeAgent.StartAsync(options, clients, runtime, loggerFactory, cancellationToken).ConfigureAwait(false);
    }

    private static KubeletOptions NewOptions(string dataDir, string? nodeName, string? nodeIp, string? podCidr, string? endpoint, int port, System.Net.IPAddress clusterDns, string clusterDomain, string? localStorageDir, string? devicePluginsDir = null, OverlayOptions? overlay = null, string? registriesFile = null) => new()
    {
        Overlay = overlay,
        DevicePluginsDir = devicePluginsDir,
        LocalStorageDir = localStorageDir,
        ClusterDomain = clusterDomain,
        DataDir = dataDir,
        NodeName = nodeName,
        NodeIp = nodeIp,
        PodCidr = podCidr,
        KubeletPort = port,
        ClusterDns = [clusterDns.ToString()],
        ContainerRuntime = new ContainerRuntimeOptions
        {
            ContainerRuntimeEndpoint = endpoint,
            Containerd = endpoint is null ? new ContainerdOptions { DataDir = dataDir, RegistriesFile = registriesFile } : null,
        },
    };
}
