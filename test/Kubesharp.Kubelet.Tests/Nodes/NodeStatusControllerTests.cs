using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Client;
using Kubesharp.Cri;
using Kubesharp.Kubelet.Nodes;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.Nodes;

/// <summary>The node's wait for its pod CIDR against a real API server.</summary>
public sealed class NodeStatusControllerTests : IAsyncLifetime
{
    private readonly string root = Directory.CreateTempSubdirectory("ksns-").FullName;
    private SqliteStore store = null!;
    private ApiServerHost server = null!;
    private KubernetesClient admin = null!;

    public async Task InitializeAsync()
    {
        store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(root, "db", "state.db") }, CancellationToken.None);
        server = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = Path.Combine(root, "server-data"), HttpsPort = 0 },
            store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await server.Ready;
        admin = KubernetesClient.FromKubeconfig(server.KubeconfigPath);
    }

    public async Task DisposeAsync()
    {
        admin?.Dispose();
        await server.DisposeAsync();
        await store.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task WaitForPodCidrAsync_CidrAssignedWhileWaiting_ReturnsWithoutTheClockMoving()
    {
        const string name = "cidr-node";
        await admin.Resource<Node>().CreateAsync(new Node { ApiVersion = "v1", Kind = "Node", Metadata = new ObjectMeta { Name = name } });
        // A clock whose timers never fire: the assignment must be noticed as it happens, not at the next poll. The
        // runtime is never asked while waiting (nothing answers on its socket).
        using var channel = UnixSocketChannel.ForEndpoint("unix://" + Path.Combine(root, "no-runtime.sock"));
        var options = new KubeletOptions { NodeName = name, DataDir = Path.Combine(root, "agent") };
        var requests = new RequestCounter();
        using var client = NodeClient(requests);
        using var controller = new NodeStatusController(client, new CriRuntimeClient(channel), options, 10250, new StoppedClock(), NullLogger.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        var waiting = controller.WaitForPodCidrAsync(timeout.Token);
        // Assigned once the wait has read the node (a fresh one, without a range) and asked again, as the node IPAM
        // controller would assign it: a wait that only looks again when its clock says so never asks again.
        while (requests.Count < 2 && !waiting.IsCompleted)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, timeout.Token);
        }

        Assert.False(waiting.IsCompleted);
        await admin.Resource<Node>().PatchAsync(null, name, PatchType.Merge, """{"spec":{"podCIDR":"10.77.3.0/24","podCIDRs":["10.77.3.0/24"]}}""", cancellationToken: timeout.Token);

        Assert.Equal("10.77.3.0/24", await waiting.WaitAsync(timeout.Token));
    }

    [Fact]
    public async Task UpdateStatusAsync_RuntimeReadyBeforeTheNodesStart_ReportsReadyOnlyOnceStarted()
    {
        const string name = "starting-node";
        var options = new KubeletOptions { NodeName = name, DataDir = Path.Combine(root, "agent-starting"), PodCidr = "10.77.4.0/24" };
        var started = new TaskCompletionSource();
        using var client = NodeClient(new RequestCounter());
        using var controller = new NodeStatusController(client, new ReadyRuntime(), options, 10250, TimeProvider.System, NullLogger.Instance)
        {
            StartedUp = started.Task,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await controller.RegisterAsync(timeout.Token);

        // The runtime says ready (its CNI configuration exists) while the node's own start (pod network, sandbox
        // image) is still under way: the node is not Ready yet.
        await controller.UpdateStatusAsync(force: true, timeout.Token);
        var starting = ReadyCondition(await admin.Resource<Node>().GetAsync(null, name, timeout.Token));
        Assert.Equal(("False", "KubeletNotReady"), (starting.Status, starting.Reason));
        Assert.Contains("starting", starting.Message, StringComparison.Ordinal);
        Assert.False(controller.ReportedReady.IsCompleted);

        started.SetResult();
        await controller.UpdateStatusAsync(force: false, timeout.Token);
        var ready = ReadyCondition(await admin.Resource<Node>().GetAsync(null, name, timeout.Token));
        Assert.Equal(("True", "KubeletReady"), (ready.Status, ready.Reason));
        Assert.True(controller.ReportedReady.IsCompletedSuccessfully);
    }

    private static NodeCondition ReadyCondition(Node node) => Assert.Single(node.Status!.Conditions!, c => c.Type == "Ready");

    /// <summary>An admin client whose requests are counted as they are sent.</summary>
    private KubernetesClient NodeClient(RequestCounter counter)
    {
        var sockets = new SocketsHttpHandler();
        sockets.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPem(server.Certificates.AdminCertificatePem, server.Certificates.AdminKeyPem)];
        var ca = X509Certificate2.CreateFromPem(server.Certificates.CaPem);
        sockets.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => IssuedBy(ca, certificate as X509Certificate2);
        counter.InnerHandler = sockets;
        return new KubernetesClient(new KubernetesClientOptions { Server = server.Url }, counter);
    }

    private static bool IssuedBy(X509Certificate2 ca, X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private sealed class RequestCounter : DelegatingHandler
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref count);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Real wall-clock readings, but no timer ever fires.</summary>
    private sealed class StoppedClock : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
