using System.CommandLine;
using System.Diagnostics;
using System.Net;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Registry.Strategies;
using Kubesharp.Storage;
using Kubesharp.Kubelet.Simulation;
using Kubesharp.Scheduler;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Commands;

/// <summary><c>kubesharp server</c>: the control plane (API server on the chosen datastore), plus a node agent unless disabled.</summary>
internal static partial class ServerCommand
{
    public static Command Create()
    {
        var bindAddress = new Option<string>("--bind-address") { Description = "Address the API server listens on.", DefaultValueFactory = _ => "127.0.0.1" };
        var advertiseAddress = new Option<string?>("--advertise-address") { Description = "Address pods and nodes reach the API server at, listened on as well (default: the --bind-address unless loopback or any, else the node's first non-loopback IPv4 address)." };
        var httpsPort = new Option<int>("--https-port") { Description = "HTTPS port of the API server.", DefaultValueFactory = _ => 6443 };
        var dataDir = new Option<string>("--data-dir") { Description = "Directory for certificates, the kubeconfig and the embedded datastore.", DefaultValueFactory = _ => ApiServerOptions.DefaultDataDir };
        var datastore = new Option<string?>("--datastore-endpoint") { Description = "sqlite://PATH (default: DATA/db/state.db), etcd://HOST:PORT[,HOST:PORT…], http://… or https://… (etcd over TLS)." };
        var datastoreTls = DatastoreCommand.TlsOptions.Create();
        var disableAgent = new Option<bool>("--disable-agent") { Description = "Run the control plane only, without a node." };
        var eventTtl = new Option<string>("--event-ttl") { Description = "How long events are kept (e.g. 1h, 30m).", DefaultValueFactory = _ => "1h" };
        var disableScheduler = new Option<bool>("--disable-scheduler") { Description = "Do not run the scheduler (another one binds pods)." };
        var simulatedNodes = new Option<int>("--simulated-nodes") { Description = "Serve this many simulated nodes in-process (for tests and capacity planning)." };
        var simulatedCpu = new Option<string>("--simulated-node-cpu") { Description = "CPU capacity of each simulated node.", DefaultValueFactory = _ => "32" };
        var simulatedMemory = new Option<string>("--simulated-node-memory") { Description = "Memory capacity of each simulated node.", DefaultValueFactory = _ => "256Gi" };
        var simulatedPods = new Option<int>("--simulated-node-pods") { Description = "Pod capacity of each simulated node.", DefaultValueFactory = _ => 110 };
        var simulatedTaint = new Option<bool>("--simulated-node-taint") { Description = $"Taint simulated nodes with {SimulatedNodeOptions.TaintKey}:NoSchedule so only pods that tolerate it land there.", DefaultValueFactory = _ => true };
        var simulatedTermination = new Option<SimulatedPodTermination>("--simulated-node-termination") { Description = $"How deleted pods on simulated nodes end: Prompt (at once, like a process that exits on SIGTERM) or Graceful (after their grace period); the pod annotation {SimulatedNodeOptions.TerminationAnnotation} overrides it.", DefaultValueFactory = _ => SimulatedPodTermination.Prompt };
        var simulatedExtended = new Option<string[]>("--simulated-node-extended-resources") { Description = "Extended resources each simulated node advertises, NAME=QUANTITY (e.g. nvidia.com/gpu=8); repeat or separate with commas.", AllowMultipleArgumentsPerToken = true };
        var serviceCidr = new Option<string>("--service-cidr") { Description = "Cluster IPs come from here; the kubernetes Service gets the first address, cluster DNS the tenth.", DefaultValueFactory = _ => Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.ServiceCidr };
        var clusterCidr = new Option<string>("--cluster-cidr") { Description = "The cluster's pod network; the node IPAM controller gives each node a slice of it as its pod CIDR.", DefaultValueFactory = _ => AgentCommand.DefaultClusterCidr };
        var tlsSan = new Option<string[]>("--tls-san") { Description = "Another host name or IP address the serving certificate names (repeatable), beside the advertised address.", AllowMultipleArgumentsPerToken = false };
        var nodeCidrMaskSize = new Option<int>("--node-cidr-mask-size") { Description = "The prefix length of each node's pod CIDR within --cluster-cidr.", DefaultValueFactory = _ => Kubesharp.ApiMachinery.Networking.ClusterNetworkDefaults.NodeCidrMaskSize };
        var clusterDomain = new Option<string>("--cluster-domain") { Description = "The cluster's DNS domain: services are SERVICE.NAMESPACE.svc.DOMAIN, and pods search it.", DefaultValueFactory = _ => Kubesharp.NodeAgents.ClusterDomain.Default };
        var clusterDns = new Option<string?>("--cluster-dns") { Description = "The cluster DNS address (default: the tenth address of --service-cidr)." };
        var anonymousAuth = new Option<bool>("--anonymous-auth") { Description = "Serve requests without credentials as system:anonymous (group system:unauthenticated), authorized like any user; off, they get 401. The health endpoints and /version answer either way." };
        var disableLocalStorage = new Option<bool>("--disable-local-storage") { Description = "Do not create the default local-path StorageClass." };
        var localStoragePath = new Option<string?>("--default-local-storage-path") { Description = "Where the server's node keeps local-path volume directories (default: DATA/agent/storage)." };
        var enablePriorityAndFairness = new Option<bool>("--enable-priority-and-fairness") { Description = "Share the server among clients by FlowSchemas and PriorityLevelConfigurations (API Priority and Fairness); false limits requests in flight instead (--max-requests-inflight, --max-mutating-requests-inflight).", DefaultValueFactory = _ => true };
        var maxRequestsInflight = new Option<int>("--max-requests-inflight") { Description = "Without priority and fairness: read-only requests running at once; more get 429 (0: no limit).", DefaultValueFactory = _ => 400 };
        var maxMutatingRequestsInflight = new Option<int>("--max-mutating-requests-inflight") { Description = "Without priority and fairness: mutating requests running at once; more get 429 (0: no limit).", DefaultValueFactory = _ => 200 };
        var hpaSyncPeriod = new Option<string>("--horizontal-pod-autoscaler-sync-period") { Description = "How often HorizontalPodAutoscalers are evaluated (e.g. 15s).", DefaultValueFactory = _ => "15s" };

        var auditPolicyFile = new Option<string?>("--audit-policy-file") { Description = "An audit.k8s.io/v1 Policy file: which requests are audited, at which level." };
        var auditLogPath = new Option<string?>("--audit-log-path") { Description = "Write audit events here as JSON lines ('-' for standard output); needs --audit-policy-file." };
        var auditLogMaxAge = new Option<int>("--audit-log-maxage") { Description = "Days to keep rotated audit log files (0: no limit)." };
        var auditLogMaxBackup = new Option<int>("--audit-log-maxbackup") { Description = "Rotated audit log files to keep (0: all)." };
        var auditLogMaxSize = new Option<int>("--audit-log-maxsize") { Description = "Megabytes of audit log before it is rotated (0: 100)." };
        var enableAdmissionPlugins = new Option<string[]>("--enable-admission-plugins") { Description = "Admission plugins to run besides the default ones (comma-separated or repeated), e.g. EventRateLimit.", AllowMultipleArgumentsPerToken = true };
        var disableAdmissionPlugins = new Option<string[]>("--disable-admission-plugins") { Description = "Default admission plugins not to run (comma-separated or repeated).", AllowMultipleArgumentsPerToken = true };
        var admissionControlConfigFile = new Option<string?>("--admission-control-config-file") { Description = "An apiserver.config.k8s.io/v1 AdmissionConfiguration file with the admission plugins' configurations (EventRateLimit's)." };
        var encryptionProviderConfig = new Option<string?>("--encryption-provider-config") { Description = "An apiserver.config.k8s.io/v1 EncryptionConfiguration file: how resources are encrypted in the datastore." };
        var clusterInit = new Option<bool>("--cluster-init") { Description = "Run an etcd member (Debian etcd-server) beside the API server, in DATA/server/etcd with certificates from the cluster CA, and use it as the datastore." };
        var etcdClientPort = new Option<int>("--etcd-client-port") { Description = "With --cluster-init: the member's client port.", DefaultValueFactory = _ => Kubesharp.EmbeddedEtcd.EtcdMemberLayout.DefaultClientPort };
        var joinServer = new Option<string?>("--server") { Description = "Join the cluster of this server (https://HOST:6443, started with --cluster-init) as a further server: its CA, keys and token are taken over and this server's etcd member is added to the cluster. Needs --token." };
        var joinToken = new Option<string?>("--token") { Description = "With --server: the server token (DATA/server/token of a server of the cluster: K10<ca-hash>::<credentials>)." };
        var clusterReset = new Option<bool>("--cluster-reset") { Description = "With --cluster-init (or a joined server's data): restart this server's etcd member as a one-member cluster from its own data, dropping the others, to recover after quorum is lost." };
        var etcdPeerPort = new Option<int>("--etcd-peer-port") { Description = "With --cluster-init: the member's peer port.", DefaultValueFactory = _ => Kubesharp.EmbeddedEtcd.EtcdMemberLayout.DefaultPeerPort };
        var snapshotSchedule = new Option<string?>("--snapshot-schedule") { Description = "Take datastore snapshots on this cron schedule (five fields, UTC, e.g. \"0 */12 * * *\") into DATA/server/db/snapshots." };
        var snapshotRetention = new Option<int>("--snapshot-retention") { Description = "How many scheduled snapshots to keep; older ones are deleted.", DefaultValueFactory = _ => 5 };
        var secretsEncryption = new Option<bool>("--secrets-encryption") { Description = "Encrypt Secrets in the datastore with a generated AES-CBC key (DATA/server/cred/encryption-config.json); see kubesharp secrets-encrypt." };
        var historyRetention = new Option<string>("--history-retention") { Description = "Keep every revision of every object this long for kubectl history (e.g. 7d, 12h); 0 keeps none.", DefaultValueFactory = _ => "0" };
        var historyMaxSize = new Option<string>("--history-max-size") { Description = "At most this much history (e.g. 512Mi); beyond it the oldest revisions go first.", DefaultValueFactory = _ => "256Mi" };
        var ingressFlags = IngressFlags.Create();
        var flannelBackend = AgentCommand.FlannelBackendOption();
        var privateRegistry = AgentCommand.NewPrivateRegistryOption();
        var disable = new Option<string[]>("--disable") { Description = $"Do not run this built-in add-on ({string.Join(", ", Kubesharp.Addons.BuiltInAddons.Names)}), nor apply DATA/server/manifests/NAME.yaml; repeatable.", AllowMultipleArgumentsPerToken = false };

        var command = new Command("server", "Run a Kubernetes control plane (and a node unless --disable-agent).")
        {
            bindAddress, advertiseAddress, httpsPort, dataDir, datastore, disableAgent, disableScheduler, eventTtl,
            simulatedNodes, simulatedCpu, simulatedMemory, simulatedPods, simulatedTaint, simulatedTermination, simulatedExtended, serviceCidr, clusterCidr, nodeCidrMaskSize, tlsSan, clusterDns, clusterDomain, disableLocalStorage, localStoragePath, hpaSyncPeriod, anonymousAuth,
            enablePriorityAndFairness, maxRequestsInflight, maxMutatingRequestsInflight,
            auditPolicyFile, auditLogPath, auditLogMaxAge, auditLogMaxBackup, auditLogMaxSize, encryptionProviderConfig, secretsEncryption,
            enableAdmissionPlugins, disableAdmissionPlugins, admissionControlConfigFile,
            snapshotSchedule, snapshotRetention, clusterInit, etcdClientPort, etcdPeerPort, joinServer, joinToken, clusterReset,
            historyRetention, historyMaxSize, disable, flannelBackend, privateRegistry,
        };
        foreach (var option in datastoreTls.All.Concat(ingressFlags.All))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            if (!IPAddress.TryParse(result.GetValue(bindAddress), out var address))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --bind-address {result.GetValue(bindAddress)} is not an IP address").ConfigureAwait(false);
                return 2;
            }

            var advertised = AdvertisedAddress(address);
            if (result.GetValue(advertiseAddress) is { } advertiseText && !IPAddress.TryParse(advertiseText, out advertised))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --advertise-address {advertiseText} is not an IP address").ConfigureAwait(false);
                return 2;
            }

            if (!TryParseDuration(result.GetValue(eventTtl)!, out var ttl))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --event-ttl {result.GetValue(eventTtl)} is not a duration such as 1h or 30m").ConfigureAwait(false);
                return 2;
            }

            if (!TryParseDuration(result.GetValue(hpaSyncPeriod)!, out var hpaSync) || hpaSync <= TimeSpan.Zero)
            {
                await Console.Error.WriteLineAsync($"kubesharp: --horizontal-pod-autoscaler-sync-period {result.GetValue(hpaSyncPeriod)} is not a positive duration such as 15s").ConfigureAwait(false);
                return 2;
            }

            if (!TryParseDuration(result.GetValue(historyRetention)!, out var retention))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --history-retention {result.GetValue(historyRetention)} is not a duration such as 7d or 12h").ConfigureAwait(false);
                return 2;
            }

            if (!Kubesharp.ApiMachinery.Quantity.TryParse(result.GetValue(historyMaxSize), out var historySize) || historySize.Value() <= 0)
            {
                await Console.Error.WriteLineAsync($"kubesharp: --history-max-size {result.GetValue(historyMaxSize)} is not a positive size such as 512Mi").ConfigureAwait(false);
                return 2;
            }

            ServiceIpRange services;
            try
            {
                services = ServiceIpRange.Parse(result.GetValue(serviceCidr)!);
            }
            catch (FormatException e)
            {
                await Console.Error.WriteLineAsync($"kubesharp: --service-cidr: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            var dnsAddress = services.DnsServiceIp;
            if (result.GetValue(clusterDns) is { } dnsText && (!IPAddress.TryParse(dnsText, out dnsAddress) || !services.Contains(dnsText)))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --cluster-dns {dnsText} is not an address inside --service-cidr {services}").ConfigureAwait(false);
                return 2;
            }

            if (!Kubesharp.NodeAgents.ClusterDomain.TryParse(result.GetValue(clusterDomain), out var domain))
            {
                await Console.Error.WriteLineAsync($"kubesharp: --cluster-domain {result.GetValue(clusterDomain)} is not a DNS name").ConfigureAwait(false);
                return 2;
            }

            var dataDirectory = Path.GetFullPath(result.GetValue(dataDir)!);
            var encryptionConfig = result.GetValue(encryptionProviderConfig) is { } configFile ? Path.GetFullPath(configFile) : null;
            if (encryptionConfig is null && result.GetValue(secretsEncryption))
            {
                encryptionConfig = Kubesharp.ApiServer.Encryption.SecretsEncryption.DefaultConfigPath(dataDirectory);
                Kubesharp.ApiServer.Encryption.SecretsEncryption.EnsureDefaultConfig(encryptionConfig);
            }

            if (result.GetValue(auditLogMaxAge) < 0 || result.GetValue(auditLogMaxBackup) < 0 || result.GetValue(auditLogMaxSize) < 0)
            {
                await Console.Error.WriteLineAsync("kubesharp: --audit-log-maxage, --audit-log-maxbackup and --audit-log-maxsize must not be negative").ConfigureAwait(false);
                return 2;
            }

            var audit = result.GetValue(auditPolicyFile) is { } policy && result.GetValue(auditLogPath) is { } logPath
                ? new Kubesharp.ApiServer.Audit.AuditOptions
                {
                    PolicyFile = Path.GetFullPath(policy),
                    LogPath = logPath == "-" ? logPath : Path.GetFullPath(logPath),
                    MaxAgeDays = result.GetValue(auditLogMaxAge),
                    MaxBackups = result.GetValue(auditLogMaxBackup),
                    MaxSizeMegabytes = result.GetValue(auditLogMaxSize),
                }
                : null;
            var options = new ApiServerOptions
            {
                EncryptionProviderConfig = encryptionConfig,
                Audit = audit,
                Admission = new Kubesharp.ApiServer.Admission.AdmissionOptions
                {
                    EnablePlugins = CommaSeparated(result.GetValue(enableAdmissionPlugins)),
                    DisablePlugins = CommaSeparated(result.GetValue(disableAdmissionPlugins)),
                    ConfigFile = result.GetValue(admissionControlConfigFile) is { } admissionConfig ? Path.GetFullPath(admissionConfig) : null,
                },
                ServiceCidr = services,
                BindAddress = address,
                AdvertiseAddress = advertised,
                TlsSans = result.GetValue(tlsSan) ?? [],
                HttpsPort = result.GetValue(httpsPort),
                DataDir = dataDirectory,
                EventTtl = ttl,
                AnonymousAuth = result.GetValue(anonymousAuth),
                EnablePriorityAndFairness = result.GetValue(enablePriorityAndFairness),
                MaxRequestsInflight = Math.Max(0, result.GetValue(maxRequestsInflight)),
                MaxMutatingRequestsInflight = Math.Max(0, result.GetValue(maxMutatingRequestsInflight)),
                History = new Kubesharp.ApiServer.History.HistoryOptions { Retention = retention, MaxBytes = historySize.Value() },
            };
            if (result.GetValue(simulatedNodes) < 0)
            {
                await Console.Error.WriteLineAsync("kubesharp: --simulated-nodes must not be negative").ConfigureAwait(false);
                return 2;
            }

            var nodeCidrs = new Kubesharp.ControllerManager.ControllerManagerOptions { ClusterCidr = result.GetValue(clusterCidr)!, NodeCidrMaskSize = result.GetValue(nodeCidrMaskSize) };
            if (nodeCidrs.NodeCidrError() is { } cidrError)
            {
                await Console.Error.WriteLineAsync($"kubesharp: --cluster-cidr/--node-cidr-mask-size: {cidrError}").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(simulatedNodes) > nodeCidrs.NodeCidrCapacity() - 1)
            {
                // Every node needs its own pod CIDR; beyond the range's capacity nodes would wait for one forever.
                await Console.Error.WriteLineAsync($"kubesharp: --simulated-nodes {result.GetValue(simulatedNodes)}: --cluster-cidr {nodeCidrs.ClusterCidr} holds {nodeCidrs.NodeCidrCapacity()} node ranges of /{nodeCidrs.NodeCidrMaskSize} (one is the server's own node); pass a wider --cluster-cidr, e.g. 10.128.0.0/9").ConfigureAwait(false);
                return 2;
            }

            if (!TryParseExtendedResources(result.GetValue(simulatedExtended) ?? [], out var extendedResources, out var extendedError))
            {
                await Console.Error.WriteLineAsync("kubesharp: --simulated-node-extended-resources: " + extendedError).ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(snapshotSchedule) is { } scheduleText && Kubesharp.Snapshots.SnapshotScheduler.Validate(scheduleText) is { } scheduleError)
            {
                await Console.Error.WriteLineAsync($"kubesharp: --snapshot-schedule {scheduleText}: {scheduleError}").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(snapshotRetention) < 1)
            {
                await Console.Error.WriteLineAsync("kubesharp: --snapshot-retention must be at least 1").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(clusterInit) && result.GetValue(datastore) is not null)
            {
                await Console.Error.WriteLineAsync("kubesharp: --cluster-init runs the server's own etcd; it does not go with --datastore-endpoint").ConfigureAwait(false);
                return 2;
            }

            Uri? joinUrl = null;
            if (result.GetValue(joinServer) is { } joinText)
            {
                if (!Uri.TryCreate(joinText, UriKind.Absolute, out joinUrl) || joinUrl.Scheme != Uri.UriSchemeHttps || result.GetValue(joinToken) is null)
                {
                    await Console.Error.WriteLineAsync("kubesharp: --server takes the https:// URL of a server of the cluster, and needs --token").ConfigureAwait(false);
                    return 2;
                }

                if (result.GetValue(clusterInit) || result.GetValue(datastore) is not null)
                {
                    await Console.Error.WriteLineAsync("kubesharp: --server joins an existing cluster's etcd; it does not go with --cluster-init or --datastore-endpoint").ConfigureAwait(false);
                    return 2;
                }
            }
            else if (result.GetValue(joinToken) is not null)
            {
                await Console.Error.WriteLineAsync("kubesharp: --token goes with --server").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(clusterReset) && result.GetValue(datastore) is not null)
            {
                await Console.Error.WriteLineAsync("kubesharp: --cluster-reset resets the server's own etcd member; it does not go with --datastore-endpoint").ConfigureAwait(false);
                return 2;
            }

            var disabled = new HashSet<string>(result.GetValue(disable) ?? [], StringComparer.Ordinal);
            var ingress = ingressFlags.Read(result, !result.GetValue(disableAgent), disabled.Contains(Kubesharp.Addons.BuiltInAddons.Ingress) || disabled.Contains(Kubesharp.Addons.BuiltInAddons.Traefik), advertised, out var ingressError);
            if (ingressError is not null)
            {
                await Console.Error.WriteLineAsync("kubesharp: " + ingressError).ConfigureAwait(false);
                return 2;
            }

            if (!AgentCommand.TryLoadRegistries(result.GetValue(privateRegistry)))
            {
                return 2;
            }

            var roles = new ServerRoles
            {
                PrivateRegistry = result.GetValue(privateRegistry),
                // A reset or a joined server runs its own member just as the first server does.
                ClusterInit = result.GetValue(clusterInit) || joinUrl is not null || result.GetValue(clusterReset),
                JoinServer = result.GetValue(clusterReset) ? null : joinUrl,
                JoinToken = result.GetValue(joinToken),
                ClusterReset = result.GetValue(clusterReset),
                EtcdClientPort = result.GetValue(etcdClientPort),
                EtcdPeerPort = result.GetValue(etcdPeerPort),
                SnapshotSchedule = result.GetValue(snapshotSchedule),
                SnapshotRetention = result.GetValue(snapshotRetention),
                Ingress = ingress,
                LogArguments = [Logging.LogOptions.Verbosity.Name, result.GetValue(Logging.LogOptions.Verbosity).ToString(System.Globalization.CultureInfo.InvariantCulture), Logging.LogOptions.Format.Name, result.GetValue(Logging.LogOptions.Format) ?? "text"],
                NodeCidrMaskSize = nodeCidrs.NodeCidrMaskSize,
                Agent = !result.GetValue(disableAgent),
                Scheduler = !result.GetValue(disableScheduler),
                ClusterCidr = result.GetValue(clusterCidr)!,
                FlannelBackend = result.GetValue(flannelBackend)!,
                ClusterDns = dnsAddress,
                ClusterDomain = domain,
                HorizontalPodAutoscalerSyncPeriod = hpaSync,
                LocalStorage = !result.GetValue(disableLocalStorage) && !disabled.Contains(Kubesharp.Addons.BuiltInAddons.LocalStorage),
                Dns = !disabled.Contains(Kubesharp.Addons.BuiltInAddons.CoreDns),
                ServiceLoadBalancers = !disabled.Contains(Kubesharp.Addons.BuiltInAddons.ServiceLb),
                Disabled = disabled,
                LocalStorageDir = result.GetValue(localStoragePath) is { } storagePath ? Path.GetFullPath(storagePath) : null,
                SimulatedNodes = new SimulatedNodeOptions
                {
                    Count = result.GetValue(simulatedNodes),
                    Cpu = result.GetValue(simulatedCpu)!,
                    Memory = result.GetValue(simulatedMemory)!,
                    Pods = result.GetValue(simulatedPods),
                    Taint = result.GetValue(simulatedTaint),
                    Termination = result.GetValue(simulatedTermination),
                    ExtendedResources = extendedResources,
                },
            };
            return await RunAsync(options, result.GetValue(datastore), datastoreTls.Read(result), Logging.LogOptions.CreateLoggerFactory(result), roles, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>NAME=QUANTITY pairs naming extended resources (a domain-prefixed name outside kubernetes.io) and whole counts.</summary>
    /// <summary>Values of a list flag given repeated or comma-separated, as upstream's string-slice flags.</summary>
    private static string[] CommaSeparated(IEnumerable<string>? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    internal static bool TryParseExtendedResources(IEnumerable<string> values, out Dictionary<string, string> resources, out string error)
    {
        resources = new Dictionary<string, string>(StringComparer.Ordinal);
        error = "";
        foreach (var pair in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? pair[..equals] : pair;
            var value = equals > 0 ? pair[(equals + 1)..] : "";
            if (!Kubesharp.Kubelet.Devices.ExtendedResourceName.IsValid(name))
            {
                error = $"{name} is not an extended resource name (DOMAIN/NAME outside kubernetes.io)";
                return false;
            }

            if (!Kubesharp.ApiMachinery.Quantity.TryParse(value, out var quantity) || quantity.MilliValue() % 1000 != 0 || quantity.Value() < 0)
            {
                error = $"{name}={value}: the quantity must be a whole non-negative number";
                return false;
            }

            resources[name] = value;
        }

        return true;
    }

    private static async Task<int> RunAsync(ApiServerOptions options, string? datastoreEndpoint, DatastoreTls datastoreTls, ILoggerFactory logging, ServerRoles roles, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        using var loggerFactory = logging;
        // Beside the store's and containerd's start, and done before the API server makes its TLS context, which reads the
        // system's trusted certificates.
        var systemTrust = Task.Run(() => Security.SystemTrustStore.ReadEachCertificateOnce(Path.Combine(options.DataDir, Security.SystemTrustStore.StateDirectoryName)), CancellationToken.None);

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

        // The node's containerd starts while the API server does; it is stopped here if the server never gets that far.
        await using var startingRuntime = roles.Agent ? AgentCommand.StartInProcessRuntime(options.DataDir, roles.PrivateRegistry, loggerFactory, stop.Token) : null;

        // --server: the cluster's CA, keys and token come from the server joined, before anything here issues its own.
        string? initialCluster = null;
        // A member with data of its own already belongs to the cluster: it restarts without asking the server it joined.
        if (roles.JoinServer is { } joinServer && !Directory.Exists(Path.Combine(new Kubesharp.EmbeddedEtcd.EtcdMemberLayout(options.DataDir).DataDir, "member")))
        {
            try
            {
                var etcdClientUrl = await Kubesharp.EmbeddedEtcd.ServerJoin.FetchBootstrapAsync(joinServer, roles.JoinToken!, options.DataDir, stop.Token).ConfigureAwait(false);
                var layout = new Kubesharp.EmbeddedEtcd.EtcdMemberLayout(options.DataDir);
                var peerUrl = Kubesharp.EmbeddedEtcd.EtcdMemberLayout.Url("https", options.AdvertiseAddress ?? options.BindAddress, roles.EtcdPeerPort);
                initialCluster = await Kubesharp.EmbeddedEtcd.ServerJoin.AddMemberAsync(layout, layout.MemberName(), peerUrl, etcdClientUrl, TimeProvider.System, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception ex) when (ex is Kubesharp.NodeAgents.ClusterCaMismatchException or HttpRequestException or IOException or InvalidOperationException or StorageException or System.Text.Json.JsonException or TaskCanceledException)
            {
                await Console.Error.WriteLineAsync($"kubesharp: could not join {joinServer}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        }

        // --cluster-init: the server's own etcd member starts before the store opens and stops after the API server and the store.
        var etcdMember = roles.ClusterInit
            ? new Kubesharp.EmbeddedEtcd.EtcdMemberSupervisor(
                new Kubesharp.EmbeddedEtcd.EtcdMemberOptions
                {
                    DataDirectory = options.DataDir,
                    AdvertiseAddress = options.AdvertiseAddress ?? options.BindAddress,
                    ClientPort = roles.EtcdClientPort,
                    PeerPort = roles.EtcdPeerPort,
                    InitialCluster = initialCluster,
                    ForceNewCluster = roles.ClusterReset,
                },
                loggerFactory.CreateLogger("Kubesharp.Storage.EtcdMember"),
                TimeProvider.System)
            : null;
        await using var etcdMemberLifetime = etcdMember;
        // A first start of the first server's member on a data directory that served SQLite takes that datastore along.
        var migrateSqlite = etcdMember is not null && roles.JoinServer is null && !roles.ClusterReset && !Directory.Exists(Path.Combine(etcdMember.Layout.DataDir, "member"));
        if (etcdMember is not null)
        {
            try
            {
                await etcdMember.StartAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                await Console.Error.WriteLineAsync($"kubesharp: the server's etcd could not start: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            datastoreEndpoint = etcdMember.ClientUrl;
            datastoreTls = etcdMember.Tls;
        }

        IStore store;
        try
        {
            store = await StoreBackends.OpenAsync(datastoreEndpoint, options.DataDir, datastoreTls, options.History.Enabled, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or InvalidOperationException or StorageException or System.Data.Common.DbException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"kubesharp: cannot open the datastore: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await using var storeLifetime = store.ConfigureAwait(false);
        var startupLogger = loggerFactory.CreateLogger("Kubesharp.Startup");
        LogStartupPhase(startupLogger, "datastore open", started.ElapsedMilliseconds);
        if (migrateSqlite)
        {
            try
            {
                if (await Kubesharp.EmbeddedEtcd.SqliteToEtcdMigration.MigrateAsync(options.DataDir, store, stop.Token).ConfigureAwait(false) is { } migrated)
                {
                    await Console.Out.WriteLineAsync($"kubesharp: moved {migrated} keys of the SQLite datastore into the server's etcd").ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or StorageException or System.Data.Common.DbException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"kubesharp: could not move the SQLite datastore into the server's etcd: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        }

        ApiServerHost server;
        await systemTrust.ConfigureAwait(false);
        try
        {
            server = await ApiServerHost.StartAsync(options, store, ServerCatalog.Resources, ServerCatalog.OpenApi, loggerFactory, TimeProvider.System, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (FormatException ex)
        {
            // An audit policy or encryption configuration that cannot be used.
            await Console.Error.WriteLineAsync($"kubesharp: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (IOException ex)
        {
            // Typically the port is taken: one line, no stack trace.
            await Console.Error.WriteLineAsync($"kubesharp: the API server could not listen on {options.BindAddress}:{options.HttpsPort}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await using var serverLifetime = server.ConfigureAwait(false);
        LogStartupPhase(startupLogger, "API server listening", started.ElapsedMilliseconds);
        server.EtcdMemberClientUrl = etcdMember?.AdvertisedClientUrl;
        var snapshots = roles.SnapshotSchedule is { } schedule
            ? new Kubesharp.Snapshots.SnapshotScheduler(new Kubesharp.Snapshots.DatastoreSnapshots(options.DataDir, TimeProvider.System), store, schedule, roles.SnapshotRetention, TimeProvider.System, loggerFactory.CreateLogger("Kubesharp.Storage.Snapshots")).RunAsync(stop.Token)
            : Task.CompletedTask;
        var joinToken = await WriteJoinTokenAsync(server, stop.Token).ConfigureAwait(false);
        try
        {
            await server.Ready.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"kubesharp: the API server could not start: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        LogStartupPhase(startupLogger, "watch cache filled and bootstrap objects made", started.ElapsedMilliseconds);
        // /readyz passes only once the components below have synced their informers and the node is up.
        var componentSync = new Kubesharp.Readiness.ComponentSync();
        server.Readiness.Add("informer-sync", componentSync.Check);
        var nodeAgentCheck = new Kubesharp.Readiness.NodeAgentCheck();
        if (roles.Agent)
        {
            server.Readiness.Add("node-agent", nodeAgentCheck.Check);
        }

        // The server's own node (a single-node cluster), unless the control plane runs alone. It starts first: its start
        // (containerd, registration, the pod network) is the longest, and it waits for nothing the components below do.
        Kubesharp.NodeAgents.NodeAgent? agent = null;
        if (roles.Agent)
        {
            try
            {
                agent = await AgentCommand.StartInProcessAsync(server, roles.ClusterCidr, roles.FlannelBackend, roles.ClusterDns, roles.ClusterDomain, roles.Dns, startingRuntime, loggerFactory, stop.Token, roles.LocalStorageDir).ConfigureAwait(false);
                nodeAgentCheck.Started(agent.Kubelet.Up);
                componentSync.Track("node agent", agent.Synced);
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                nodeAgentCheck.Failed(e);
            }
        }

        // The control-plane components talk to the API each under its own identity with least privilege (in process,
        // through the server's own pipeline, as remote ones would over HTTPS); the server's own cluster services
        // (kube-dns Service, API endpoints, storage class, LoadBalancer status) keep the admin credentials, as k3s's
        // deploy and service-LB controllers do.
        using var client = Kubesharp.Identities.ComponentClient.Admin(server);
        using var controllerClient = Kubesharp.Identities.ComponentClient.Create(server, Kubesharp.ApiServer.Security.ComponentIdentities.ControllerManager, "kube-controller-manager");
        using var schedulerClient = Kubesharp.Identities.ComponentClient.Create(server, Kubesharp.ApiServer.Security.ComponentIdentities.Scheduler, "kube-scheduler");
        var controllerOptions = new Kubesharp.ControllerManager.ControllerManagerOptions
        {
            // Stable across restarts of this server, so one restarted after a crash takes its own lease back at once.
            Identity = ControllerManagerIdentity(options.DataDir),
            InformersSynced = componentSync.Track("controller-manager"),
            HorizontalPodAutoscaler = new Kubesharp.ControllerManager.HorizontalPodAutoscalers.HorizontalPodAutoscalerOptions { SyncPeriod = roles.HorizontalPodAutoscalerSyncPeriod },
            RootCaPem = server.Certificates.CaPem,
            ClusterSigningCertificatePem = server.Certificates.CaPem,
            ClusterSigningKeyPem = server.Certificates.CaKeyPem,
            ClusterCidr = roles.ClusterCidr,
            NodeCidrMaskSize = roles.NodeCidrMaskSize,
        };
        var controllers = Kubesharp.ControllerManager.ControllerManager.RunAsync(controllerClient, controllerOptions, TimeProvider.System, loggerFactory, stop.Token);
        var localStorage = roles.LocalStorage
            ? Kubesharp.Volumes.LocalPathStorageClass.EnsureAsync(client, TimeProvider.System, e => LogLocalStorageFailed(loggerFactory.CreateLogger("Kubesharp.Volumes.LocalPathStorageClass"), e.Message), stop.Token)
            : RemoveDisabledAsync(() => Kubesharp.Volumes.LocalPathStorageClass.RemoveAsync(client, stop.Token), loggerFactory);
        var clusterServices = RunClusterServicesAsync(client, roles, new IPEndPoint(options.AdvertiseAddress ?? options.BindAddress, server.Url.Port), loggerFactory, stop.Token);
        // The add-ons' manifests and the ingress proxy (a process of its own) are not part of the node's start or the
        // server's readiness, which are what a user waits for: they begin once the node is up (or failed) and the server
        // has said whether it is ready, rather than beside them on the same cores.
        var componentsSettled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startedUp = Task.WhenAll(agent?.Kubelet.Ready ?? Task.CompletedTask, componentsSettled.Task);
        var addons = AfterAsync(startedUp, () => new Kubesharp.Addons.AddonDeployer(client, options.DataDir, roles.Disabled, TimeProvider.System, loggerFactory.CreateLogger<Kubesharp.Addons.AddonDeployer>()).RunAsync(stop.Token), stop.Token);
        var ingress = AfterAsync(startedUp, () => RunIngressAsync(server.KubeconfigPath, roles.Ingress, roles.LogArguments, loggerFactory, stop.Token), stop.Token);
        // One scheduler binds at a time across the servers of a cluster: the holder of the kube-system/kube-scheduler Lease.
        var scheduler = roles.Scheduler
            ? RunSchedulerAsync(schedulerClient, controllerOptions.Identity!, componentSync.Track("scheduler"), loggerFactory, stop.Token)
            : Task.CompletedTask;

        using var simulated = roles.SimulatedNodes.Count > 0
            ? new SimulatedNodeHost(client, roles.SimulatedNodes, TimeProvider.System, loggerFactory.CreateLogger<SimulatedNodeHost>())
            : null;
        if (simulated is not null)
        {
            await simulated.StartAsync(stop.Token).ConfigureAwait(false);
            componentSync.Track("simulated nodes", simulated.Ready);
        }

        try
        {
            await componentSync.SettledAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        LogStartupPhase(startupLogger, "components synced", started.ElapsedMilliseconds);
        if (nodeAgentCheck.Failure is { } nodeFailure)
        {
            await Console.Error.WriteLineAsync($"kubesharp: the node agent could not start: {nodeFailure}. The cluster has no node; /readyz fails (see /readyz?verbose) until this is fixed and the server restarted.").ConfigureAwait(false);
        }

        if (!stop.IsCancellationRequested && server.Readiness.FirstFailure() is { } notReady)
        {
            await Console.Error.WriteLineAsync($"kubesharp: the API server at {server.Url} is serving but not ready: {notReady}").ConfigureAwait(false);
        }
        else if (!stop.IsCancellationRequested)
        {
            await Console.Out.WriteLineAsync($"""
                Kubesharp API server ready at {server.Url} ({started.ElapsedMilliseconds} ms).
                Use it with kubectl:
                    export KUBECONFIG={server.KubeconfigPath}
                    kubectl get nodes
                Join a node on another machine (the token pins this cluster's CA; it is also in {joinToken}):
                    kubesharp agent --server https://{options.AdvertiseAddress ?? options.BindAddress}:{server.Url.Port} --token $(cat {joinToken})
                """).ConfigureAwait(false);
        }

        componentsSettled.TrySetResult();
        try
        {
            // Start-up's garbage goes as soon as the server is quiet, rather than at the first idle check.
            await server.ReleaseStartupMemoryAsync(stop.Token).ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (agent is not null)
        {
            await agent.DisposeAsync().ConfigureAwait(false);
        }

        if (simulated is not null)
        {
            await simulated.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await scheduler.ConfigureAwait(false);

        await controllers.ConfigureAwait(false);
        await clusterServices.ConfigureAwait(false);
        await addons.ConfigureAwait(false);
        await snapshots.ConfigureAwait(false);
        await ingress.ConfigureAwait(false);
        try
        {
            await localStorage.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    /// <summary>Campaigns for the scheduler's Lease and runs the scheduler while it holds it; a standby counts as synced.</summary>
    private static async Task RunSchedulerAsync(Kubesharp.Client.KubernetesClient client, string identity, Action synced, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var elector = new Kubesharp.Client.LeaderElection.LeaderElector(client, new Kubesharp.Client.LeaderElection.LeaderElectionOptions
        {
            LeaseName = SchedulerLeaseName,
            Identity = identity,
            OnNewLeader = holder =>
            {
                if (holder != identity)
                {
                    synced();
                }
            },
        }, TimeProvider.System, loggerFactory.CreateLogger<Kubesharp.Client.LeaderElection.LeaderElector>());
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await elector.RunAsync(async leading =>
                {
                    using var scheduler = new SchedulerService(client, new SchedulerOptions(), timeProvider: TimeProvider.System, logger: loggerFactory.CreateLogger<SchedulerService>());
                    await scheduler.StartAsync(leading).ConfigureAwait(false);
                    _ = scheduler.Started.ContinueWith(_ => synced(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                    try
                    {
                        await Task.Delay(Timeout.Infinite, leading).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    await scheduler.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private const string SchedulerLeaseName = "kube-scheduler";

    /// <summary>
    /// Writes DATA/server/token: the node token in the join form that pins the cluster CA (K10&lt;ca-hash&gt;::&lt;token&gt;),
    /// readable by the owner only; returns its path.
    /// </summary>
    private static async Task<string> WriteJoinTokenAsync(ApiServerHost server, CancellationToken cancellationToken)
    {
        var tokenLine = (await File.ReadAllLinesAsync(Path.Combine(server.Options.DataDir, "server", "token-auth.csv"), cancellationToken).ConfigureAwait(false))
            .First(l => l.Length > 0 && !l.StartsWith('#'));
        var path = Path.Combine(server.Options.DataDir, "server", "token");
        await File.WriteAllTextAsync(path, Kubesharp.ApiServer.Security.JoinToken.Format(server.Certificates.CaPem, tokenLine.Split(',')[0]) + "\n", cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return path;
    }

    /// <summary>The host name plus a digest of the data directory: one identity per server, the same after a restart.</summary>
    private static string ControllerManagerIdentity(string dataDir) =>
        $"{Environment.MachineName}_{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDir)))[..16]}";

    /// <summary>Upstream's default: the bind address when it is one reachable address, else the node's own.</summary>
    private static IPAddress AdvertisedAddress(IPAddress bindAddress) =>
        bindAddress.Equals(IPAddress.Any) || bindAddress.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(bindAddress)
            ? Kubesharp.Kubelet.Nodes.DefaultNodeAddress.Find()
            : bindAddress;

    /// <summary>
    /// Cluster-level pieces of service networking: the kube-dns Service (kept, as k3s ships CoreDNS's), the
    /// kubernetes Service's endpoints (the address pods reach the API at) and the status of LoadBalancer Services.
    /// </summary>
    private static async Task RunClusterServicesAsync(Kubesharp.Client.KubernetesClient client, ServerRoles roles, IPEndPoint api, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var logger = loggerFactory.CreateLogger("Kubesharp.Dns.ClusterDnsService");
        var informers = new Kubesharp.Client.Informers.SharedInformerFactory(client, loggerFactory: loggerFactory);
        await using var informersLifetime = informers.ConfigureAwait(false);
        using var loadBalancers = new Kubesharp.Proxy.ServiceLoadBalancerController(client, informers, loggerFactory.CreateLogger<Kubesharp.Proxy.ServiceLoadBalancerController>());
        var keep = roles.Dns
            ? Kubesharp.Dns.ClusterDnsService.KeepAsync(client, roles.ClusterDns.ToString(), TimeSpan.FromSeconds(30), TimeProvider.System, e => LogKubeDnsFailed(logger, e.Message), cancellationToken)
            : RemoveDisabledAsync(() => Kubesharp.Dns.ClusterDnsService.RemoveAsync(client, cancellationToken), loggerFactory);
        // Every server of the cluster lists itself through a lease of its own (upstream's lease endpoint reconciler, 10 s / 15 s).
        var apiEndpoints = Kubesharp.ControllerManager.Endpoints.KubernetesServiceEndpoints.KeepWithLeasesAsync(
            client, api.Address, api.Port, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(15), TimeProvider.System, e => LogApiEndpointsFailed(logger, e.Message), cancellationToken);
        try
        {
            await Task.WhenAll(keep, apiEndpoints, roles.ServiceLoadBalancers ? loadBalancers.RunAsync(cancellationToken) : Task.CompletedTask).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Removes what a built-in add-on turned off with <c>--disable</c> had created on an earlier start.</summary>
    private static async Task RemoveDisabledAsync(Func<Task> remove, ILoggerFactory loggerFactory)
    {
        try
        {
            await remove().ConfigureAwait(false);
        }
        catch (Exception e) when (e is Kubesharp.ApiMachinery.Errors.StatusException or HttpRequestException)
        {
            LogRemoveDisabledFailed(loggerFactory.CreateLogger("Kubesharp.Addons.BuiltInAddons"), e.Message);
        }
    }

    /// <summary>
    /// Runs <paramref name="start"/> once <paramref name="gate"/> has ended, whether it succeeded or not, or after 10 s
    /// at most (a node still importing its images holds up nothing else); nothing when stopped first.
    /// </summary>
    private static async Task AfterAsync(Task gate, Func<Task> start, CancellationToken cancellationToken)
    {
        try
        {
            await gate.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A timeout, or the gate's failure, which is reported where it is awaited (the node agent's readiness check).
        }

        await start().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up: {Phase} at {Milliseconds} ms")]
    private static partial void LogStartupPhase(ILogger logger, string phase, long milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove a disabled built-in add-on: {Reason}")]
    private static partial void LogRemoveDisabledFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ensure the kubernetes Service's endpoints: {Reason}")]
    private static partial void LogApiEndpointsFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ensure the local-path StorageClass: {Reason}")]
    private static partial void LogLocalStorageFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ensure the kube-dns Service: {Reason}")]
    private static partial void LogKubeDnsFailed(ILogger logger, string reason);

    /// <summary>What runs beside the API server.</summary>
    private sealed record ServerRoles
    {
        public bool Agent { get; init; } = true;

        /// <summary>The node's registries.yaml (<c>--private-registry</c>).</summary>
        public string? PrivateRegistry { get; init; }

        public bool Scheduler { get; init; } = true;

        public required SimulatedNodeOptions SimulatedNodes { get; init; }

        public TimeSpan HorizontalPodAutoscalerSyncPeriod { get; init; } = TimeSpan.FromSeconds(15);

        public required string ClusterCidr { get; init; }

        /// <summary>How the server's node reaches pods on other nodes (<c>--flannel-backend</c>).</summary>
        public string FlannelBackend { get; init; } = Kubesharp.Kubelet.Network.Overlay.OverlayBackends.Vxlan;

        public required int NodeCidrMaskSize { get; init; }

        public required IPAddress ClusterDns { get; init; }

        public required string ClusterDomain { get; init; }

        public bool LocalStorage { get; init; } = true;

        /// <summary>The kube-dns Service and the server's node's DNS server (<c>--disable coredns</c> turns them off).</summary>
        public bool Dns { get; init; } = true;

        public bool ServiceLoadBalancers { get; init; } = true;

        /// <summary>The <c>--disable</c> names: built-in add-ons off, manifests of these names skipped.</summary>
        public IReadOnlySet<string> Disabled { get; init; } = new HashSet<string>();

        /// <summary>The built-in ingress controller, null when it does not run.</summary>
        public Kubesharp.Ingress.IngressOptions? Ingress { get; init; }

        /// <summary>The server's logging flags, for the processes it starts of itself (the ingress proxy).</summary>
        public IReadOnlyList<string> LogArguments { get; init; } = [];

        public string? LocalStorageDir { get; init; }

        public string? SnapshotSchedule { get; init; }

        public bool ClusterInit { get; init; }

        public int EtcdClientPort { get; init; } = Kubesharp.EmbeddedEtcd.EtcdMemberLayout.DefaultClientPort;

        public int EtcdPeerPort { get; init; } = Kubesharp.EmbeddedEtcd.EtcdMemberLayout.DefaultPeerPort;

        public int SnapshotRetention { get; init; } = 5;

        /// <summary>The server whose cluster this one joins (<c>--server</c>), with <see cref="JoinToken"/>.</summary>
        public Uri? JoinServer { get; init; }

        public string? JoinToken { get; init; }

        public bool ClusterReset { get; init; }
    }

    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var number = text.TrimEnd('s', 'm', 'h', 'd');
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out duration);
        }

        duration = text[^1] switch
        {
            'h' => TimeSpan.FromHours(value),
            'm' => TimeSpan.FromMinutes(value),
            'd' => TimeSpan.FromDays(value),
            _ => TimeSpan.FromSeconds(value),
        };
        return true;
    }
}
