using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.Api;
using Kubesharp.Api.Authentication.V1;
using Kubesharp.Api.Certificates.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;
using Kubesharp.NodeAgents;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.NodeAgents;

/// <summary>
/// TLS bootstrapping of a joining node against a real API server and the real controller manager: a node token buys
/// the node its own certificate, which makes it system:node:NAME with a node's rights only, and is reused on restart.
/// </summary>
public sealed class NodeClientBootstrapTests : IAsyncLifetime, IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ksb-").FullName;
    private readonly CancellationTokenSource stop = new();
    private SqliteStore store = null!;
    private ApiServerHost server = null!;
    private KubernetesClient admin = null!;
    private KubernetesClient controllerClient = null!;
    private Task controllers = Task.CompletedTask;

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
        var (cert, key) = ComponentIdentities.Issue(server.Certificates, ComponentIdentities.ControllerManager, TimeProvider.System);
        controllerClient = new KubernetesClient(new KubernetesClientOptions { Server = server.Url, CertificateAuthorityPem = server.Certificates.CaPem, ClientCertificatePem = cert, ClientKeyPem = key });
        var options = new Kubesharp.ControllerManager.ControllerManagerOptions
        {
            LeaderElect = false,
            ClusterSigningCertificatePem = server.Certificates.CaPem,
            ClusterSigningKeyPem = server.Certificates.CaKeyPem,
        };
        controllers = Kubesharp.ControllerManager.ControllerManager.RunControllersAsync(controllerClient, options, TimeProvider.System, NullLoggerFactory.Instance, stop.Token);
    }

    public async Task DisposeAsync()
    {
        await stop.CancelAsync();
        await controllers;
        await server.DisposeAsync();
        await store.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    public void Dispose()
    {
        controllerClient?.Dispose();
        admin?.Dispose();
        stop.Dispose();
    }

    [Fact]
    public async Task NodeToken_GetsANodeCertificate_ActsAsTheNode_AndReusesItOnRestart()
    {
        var token = await CreateTokenAsync("joinme", BootstrapToken.DefaultNodeTokenGroup);
        var agentDir = Path.Combine(root, "agent");
        var bootstrap = new KubernetesClientOptions { Server = server.Url, CertificateAuthorityPem = server.Certificates.CaPem, BearerToken = token, UserAgent = "kubesharp-agent" };

        var (certificatePem, keyPem) = await NodeClientBootstrap.ObtainAsync(bootstrap, "worker-1", agentDir, TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(30), CancellationToken.None);

        // Stored for the next start, readable by the agent's user only.
        var path = NodeClientBootstrap.CertificatePath(agentDir);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        using (var certificate = X509Certificate2.CreateFromPem(certificatePem))
        {
            Assert.Equal("O=system:nodes, CN=system:node:worker-1", certificate.Subject);
        }

        var csr = Assert.Single((await admin.Resource<CertificateSigningRequest>().ListAsync(null)).Items);
        Assert.StartsWith("node-csr-", csr.Metadata!.Name, StringComparison.Ordinal);
        Assert.Equal("system:bootstrap:joinme", csr.Spec!.Username);
        Assert.Equal("AutoApproved", csr.Status!.Conditions!.Single().Reason);

        // With it, the node is system:node:worker-1: it registers its own Node, and may not read a Secret none of its pods use.
        using var node = new KubernetesClient(bootstrap with { BearerToken = null, ClientCertificatePem = certificatePem, ClientKeyPem = keyPem });
        var review = await node.Resource<SelfSubjectReview>().CreateAsync(new SelfSubjectReview { ApiVersion = SelfSubjectReview.KubeApiVersion, Kind = SelfSubjectReview.KubeKind, Metadata = new ObjectMeta() });
        Assert.Equal("system:node:worker-1", review.Status!.UserInfo!.Username);
        Assert.DoesNotContain("system:masters", review.Status.UserInfo.Groups!);
        await node.Resource<Node>().CreateAsync(new Node { ApiVersion = "v1", Kind = "Node", Metadata = new ObjectMeta { Name = "worker-1" } });
        var otherNode = await Assert.ThrowsAsync<StatusException>(() => node.Resource<Node>().CreateAsync(new Node { ApiVersion = "v1", Kind = "Node", Metadata = new ObjectMeta { Name = "worker-2" } }));
        Assert.Equal(403, otherNode.Code);
        await admin.Resource<Secret>().CreateAsync(new Secret { ApiVersion = "v1", Kind = "Secret", Metadata = new ObjectMeta { Name = "unrelated", Namespace = "default" }, StringData = new() { ["k"] = "v" } });
        var secret = await Assert.ThrowsAsync<StatusException>(() => node.Resource<Secret>().GetAsync("default", "unrelated"));
        Assert.Equal(403, secret.Code);
        Assert.Contains("no relationship found between node 'worker-1' and this object", secret.Message, StringComparison.Ordinal);
        // The service proxy and cluster DNS of a joined node read under the node's identity.
        Assert.NotEmpty((await node.Resource<Service>().ListAsync(null)).Items);
        _ = await node.Resource<Endpoints>().ListAsync(null);

        // A restart reuses the stored certificate: the token may be gone, and no new request is filed.
        await admin.Resource<Secret>().DeleteAsync(BootstrapToken.SecretNamespace, BootstrapToken.SecretName("joinme"));
        var again = await NodeClientBootstrap.ObtainAsync(bootstrap, "worker-1", agentDir, TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(certificatePem.Trim(), again.CertificatePem.Trim());
        Assert.Single((await admin.Resource<CertificateSigningRequest>().ListAsync(null)).Items);
    }

    [Fact]
    public async Task TokenOutsideTheNodeGroup_IsNeverApproved_AndTheWaitEnds()
    {
        var token = await CreateTokenAsync("notnod", "system:bootstrappers:readers");
        var bootstrap = new KubernetesClientOptions { Server = server.Url, CertificateAuthorityPem = server.Certificates.CaPem, BearerToken = token };

        // Such a token may not even file a request (system:node-bootstrapper is bound to the node group only).
        var refused = await Assert.ThrowsAsync<StatusException>(() => NodeClientBootstrap.ObtainAsync(bootstrap, "worker-3", Path.Combine(root, "agent3"), TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(2), CancellationToken.None));
        Assert.Equal(403, refused.Code);

        // Given the right to file one, it still is not approved, and the wait is bounded.
        await admin.Resource<Kubesharp.Api.Rbac.V1.ClusterRoleBinding>().CreateAsync(new Kubesharp.Api.Rbac.V1.ClusterRoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "ClusterRoleBinding",
            Metadata = new ObjectMeta { Name = "readers-may-request" },
            RoleRef = new Kubesharp.Api.Rbac.V1.RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = "system:node-bootstrapper" },
            Subjects = [new Kubesharp.Api.Rbac.V1.Subject { ApiGroup = "rbac.authorization.k8s.io", Kind = "Group", Name = "system:bootstrappers:readers" }],
        });
        await Assert.ThrowsAsync<TimeoutException>(() => NodeClientBootstrap.ObtainAsync(bootstrap, "worker-3", Path.Combine(root, "agent3"), TimeProvider.System, NullLogger.Instance, TimeSpan.FromSeconds(3), CancellationToken.None));
        var csr = Assert.Single((await admin.Resource<CertificateSigningRequest>().ListAsync(null)).Items);
        Assert.Null(csr.Status?.Conditions);
        Assert.False(File.Exists(NodeClientBootstrap.CertificatePath(Path.Combine(root, "agent3"))));
    }

    private async Task<string> CreateTokenAsync(string id, string group)
    {
        var secret = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 16);
        await admin.Resource<Secret>().CreateAsync(new Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new ObjectMeta { Name = BootstrapToken.SecretName(id), Namespace = BootstrapToken.SecretNamespace },
            Type = BootstrapToken.SecretType,
            Data = new Dictionary<string, byte[]>
            {
                [BootstrapToken.TokenIdKey] = Encoding.UTF8.GetBytes(id),
                [BootstrapToken.TokenSecretKey] = Encoding.UTF8.GetBytes(secret),
                [BootstrapToken.UsageAuthenticationKey] = "true"u8.ToArray(),
                [BootstrapToken.ExtraGroupsKey] = Encoding.UTF8.GetBytes(group),
            },
        });
        return $"{id}.{secret}";
    }
}
