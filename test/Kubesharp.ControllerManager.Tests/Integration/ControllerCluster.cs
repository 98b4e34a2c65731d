using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>
/// An in-process API server over SQLite in a temp directory with the controller manager running against it,
/// plus a stand-in node agent for one node: it binds pods, reports them running and ready, and completes
/// their deletion (the kubelet edge is the only fake).
/// </summary>
#pragma warning disable CA1001 // disposed through IAsyncLifetime.DisposeAsync
public sealed class ControllerCluster : IAsyncLifetime
#pragma warning restore CA1001
{
    public const string NodeName = "node-1";

    private readonly CancellationTokenSource stopping = new();
    private readonly TimeSpan nodeMonitorGracePeriod;
    private SqliteStore? store;
    private ApiServerHost? host;
    private Task? controllers;
    private Task? agent;
    private SharedInformerFactory? agentInformers;
    private ILoggerFactory? loggerFactory;

    public ControllerCluster()
        : this(TimeSpan.FromHours(1))
    {
    }

    /// <param name="nodeMonitorGracePeriod">How long the node may stay silent (it never heartbeats here).</param>
    internal ControllerCluster(TimeSpan nodeMonitorGracePeriod)
    {
        this.nodeMonitorGracePeriod = nodeMonitorGracePeriod;
    }

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "kubesharp-cm-" + Guid.NewGuid().ToString("N"));

    public KubernetesClient Client { get; private set; } = null!;

    /// <summary>The controllers' own client (system:kube-controller-manager).</summary>
    public KubernetesClient ControllerClient { get; private set; } = null!;

    /// <summary>Every line the controllers logged, debug and up.</summary>
    internal Kubesharp.Client.Tests.RecordingLogger Logs { get; } = new();

    /// <summary>The store under the server, for objects the API would refuse (written by an older server).</summary>
    internal Kubesharp.Storage.IStore Store => store!;

    public async Task InitializeAsync()
    {
        store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(DataDir, "db", "state.db") }, CancellationToken.None);
        host = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = DataDir, HttpsPort = 0 },
            store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await host.Ready;
        Client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        await Client.Resource<Node>().CreateAsync(new Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new ObjectMeta { Name = NodeName },
            Status = new NodeStatus { Conditions = [new NodeCondition { Type = "Ready", Status = "True", LastHeartbeatTime = DateTimeOffset.UtcNow }] },
        });
        loggerFactory = LoggerFactory.Create(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        // The controllers act as the server runs them: system:kube-controller-manager, authorized by its bootstrap roles only.
        var (controllerCertificate, controllerKey) = Kubesharp.ApiServer.Security.ComponentIdentities.Issue(host.Certificates, Kubesharp.ApiServer.Security.ComponentIdentities.ControllerManager, TimeProvider.System);
        ControllerClient = new KubernetesClient(Client.Options with { ClientCertificatePem = controllerCertificate, ClientKeyPem = controllerKey, UserAgent = "kube-controller-manager" });
        controllers = ControllerManager.RunAsync(ControllerClient, new ControllerManagerOptions
        {
            LeaderElect = false,
            PodGcPeriod = TimeSpan.FromSeconds(1),
            NodeMonitorGracePeriod = nodeMonitorGracePeriod,
            NodeMonitorPeriod = TimeSpan.FromMilliseconds(500),
        }, TimeProvider.System, loggerFactory, stopping.Token);
        agentInformers = new SharedInformerFactory(Client);
        var pods = agentInformers.Informer<Pod>();
        var pending = System.Threading.Channels.Channel.CreateUnbounded<Pod>();
        pods.AddEventHandler(p => pending.Writer.TryWrite(p), (_, p) => pending.Writer.TryWrite(p));
        agentInformers.Start(stopping.Token);
        agent = Task.Run(async () =>
        {
            try
            {
                await foreach (var pod in pending.Reader.ReadAllAsync(stopping.Token))
                {
                    try
                    {
                        await ActAsNodeAgentAsync(pod, stopping.Token);
                    }
                    catch (StatusException)
                    {
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    private async Task ActAsNodeAgentAsync(Pod pod, CancellationToken cancellationToken)
    {
        var pods = Client.Resource<Pod>();
        var meta = pod.Metadata!;
        if (meta.DeletionTimestamp is not null)
        {
            await pods.DeleteAsync(meta.Namespace, meta.Name!, new DeleteOptions { GracePeriodSeconds = 0 }, cancellationToken);
            return;
        }

        if (string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            await pods.BindAsync(meta.Namespace!, meta.Name!, NodeName, meta.Uid, cancellationToken);
            return;
        }

        if (pod.Status?.Phase == "Running")
        {
            return;
        }

        var running = KubernetesJson.DeepCopy(pod);
        var now = DateTimeOffset.UtcNow;
        running.Status ??= new PodStatus();
        running.Status.Phase = "Running";
        running.Status.Conditions = [new PodCondition { Type = "Ready", Status = "True", LastTransitionTime = now }];
        await pods.UpdateStatusAsync(running, cancellationToken: cancellationToken);
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after a generous timeout.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(90);
        T value;
        while (true)
        {
            value = await read();
            if (condition(value))
            {
                return value;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    public async Task<T?> TryGetAsync<T>(string? ns, string name)
        where T : class, Kubesharp.ApiMachinery.IKubernetesObject, Kubesharp.ApiMachinery.IKubernetesKind, new()
    {
        try
        {
            return await Client.Resource<T>().GetAsync(ns, name);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return null;
        }
    }

    public async Task DisposeAsync()
    {
        await stopping.CancelAsync();
        if (controllers is not null)
        {
            await controllers;
        }

        if (agent is not null)
        {
            await agent;
        }

        loggerFactory?.Dispose();

        if (agentInformers is not null)
        {
            await agentInformers.DisposeAsync();
        }

        Client?.Dispose();
        ControllerClient?.Dispose();
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        if (store is not null)
        {
            await store.DisposeAsync();
        }

        stopping.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
