using System.Net;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;
using Kubesharp.NodeAgents;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.NodeAgents;

/// <summary>Joining verifies the server: the serving certificate's names, the CA pin in the token, refusal of another CA.</summary>
public sealed class JoinTokenTests : IAsyncLifetime
{
    private readonly string root = Directory.CreateTempSubdirectory("ksj-").FullName;
    private SqliteStore store = null!;
    private ApiServerHost server = null!;

    public async Task InitializeAsync()
    {
        store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(root, "db", "state.db") }, CancellationToken.None);
        server = await ApiServerHost.StartAsync(
            new ApiServerOptions { DataDir = root, HttpsPort = 0, AdvertiseAddress = IPAddress.Parse("127.0.0.9"), TlsSans = ["join.example.test", "198.51.100.9"] },
            store,
            BuiltinResources.Complete(ApiCatalog.Resources),
            null,
            NullLoggerFactory.Instance,
            TimeProvider.System,
            CancellationToken.None);
        await server.Ready;
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await store.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private string NodeToken => File.ReadAllLines(Path.Combine(root, "server", "token-auth.csv")).First(l => l.Length > 0 && !l.StartsWith('#')).Split(',')[0];

    [Fact]
    public void ServingCertificate_AdvertiseAddressAndTlsSans_AreNamed()
    {
        var names = server.Certificates.Serving.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();

        Assert.Contains(IPAddress.Parse("127.0.0.9"), names.EnumerateIPAddresses());
        Assert.Contains(IPAddress.Parse("198.51.100.9"), names.EnumerateIPAddresses());
        Assert.Contains("join.example.test", names.EnumerateDnsNames());
    }

    [Fact]
    public void Parse_K10Token_SplitsPinAndCredentials()
    {
        var token = JoinToken.Format(server.Certificates.CaPem, "abcdef.0123456789abcdef");

        Assert.Matches("^K10[0-9a-f]{64}::abcdef.0123456789abcdef$", token);
        Assert.Equal((JoinToken.CaHash(server.Certificates.CaPem), "abcdef.0123456789abcdef"), JoinToken.Parse(token));
        Assert.Equal((null, "bare"), JoinToken.Parse("bare"));
    }

    [Fact]
    public async Task Resolve_MatchingPin_GivesTheCaThatVerifiesTheServer()
    {
        var (pin, credentials) = JoinToken.Parse(JoinToken.Format(server.Certificates.CaPem, NodeToken));

        var ca = await ClusterCaDiscovery.ResolveAsync(server.Url, pin, null, CancellationToken.None);

        Assert.Equal(server.Certificates.CaPem, ca);
        using var client = new KubernetesClient(new KubernetesClientOptions { Server = server.Url, CertificateAuthorityPem = ca, BearerToken = credentials });
        Assert.NotNull(await client.Resource<Namespace>().GetAsync(null, "default"));
    }

    [Fact]
    public async Task Resolve_WrongPinOrNoPinOrOtherCa_IsRefused()
    {
        var wrong = new string('0', 64);
        await Assert.ThrowsAsync<ClusterCaMismatchException>(() => ClusterCaDiscovery.ResolveAsync(server.Url, wrong, null, CancellationToken.None));
        await Assert.ThrowsAsync<ClusterCaMismatchException>(() => ClusterCaDiscovery.ResolveAsync(server.Url, null, null, CancellationToken.None));
        await Assert.ThrowsAsync<ClusterCaMismatchException>(() => ClusterCaDiscovery.ResolveAsync(server.Url, wrong, server.Certificates.CaPem, CancellationToken.None));
    }

    [Fact]
    public async Task Agent_TokenPinningAnotherCa_ExitsWithoutRegisteringANode()
    {
        var dataDir = Path.Combine(root, "agent");
        var token = "K10" + new string('a', 64) + "::" + NodeToken;

        var exit = await KubesharpCommand.RunAsync(["agent", "--server", server.Url.ToString(), "--token", token, "--data-dir", dataDir, "--node-name", "refused"]);

        Assert.Equal(1, exit);
        using var admin = KubernetesClient.FromKubeconfig(server.KubeconfigPath);
        Assert.DoesNotContain((await admin.Resource<Node>().ListAsync(null)).Items, n => n.Metadata?.Name == "refused");
        Assert.False(Directory.Exists(Path.Combine(dataDir, "containerd")));
    }
}
