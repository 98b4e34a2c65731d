using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.Api.Authentication.V1;
using Kubesharp.Api.Certificates.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.ApiMachinery.Certificates;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;
using Kubesharp.Client.Events;
using Kubesharp.Client.Informers;
using Kubesharp.Client.Tests;
using Kubesharp.ControllerManager.Certificates;
using Kubesharp.ControllerManager.Tests.Integration;
using Kubesharp.Scheduler.Tests;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.ControllerManager.Tests.Certificates;

/// <summary>
/// certificates.k8s.io against a real API server: the API's rules for CertificateSigningRequests, and the csrsigning,
/// csrapproving and csrcleaner controllers running under the controller manager's own identity.
/// </summary>
public sealed class CertificateSigningRequestTests
{
    [Fact]
    public async Task Api_StampsRequester_KeepsSpec_ApprovalAndStatusSubresources_AndValidates()
    {
        await using var server = await TestApiServer.StartAsync();
        var csrs = server.Client.Resource<CertificateSigningRequest>();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        // Whatever identity the client claims, the server writes its own view of the requester, and no status.
        var sent = Request("stamped", Pem("CN=someone", key), CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]);
        sent.Spec!.Username = "system:masquerade";
        sent.Spec.Groups = ["system:forged"];
        sent.Status = new CertificateSigningRequestStatus { Conditions = [Condition(CertificateSigners.Approved)] };
        var created = await csrs.CreateAsync(sent);
        Assert.Equal(ClusterCertificates.AdminUser, created.Spec!.Username);
        Assert.Contains("system:masters", created.Spec.Groups!);
        Assert.DoesNotContain("system:forged", created.Spec.Groups!);
        Assert.Null(created.Status?.Conditions);

        // The spec never changes through an update of the object.
        var changed = created with { Spec = created.Spec with { SignerName = "example.com/other" }, Metadata = created.Metadata! with { Labels = new() { ["a"] = "b" } } };
        var updated = await csrs.UpdateAsync(changed);
        Assert.Equal(CertificateSigners.KubeApiServerClient, updated.Spec!.SignerName);
        Assert.Equal("b", updated.Metadata!.Labels!["a"]);

        // The status subresource cannot approve; the approval subresource can, and stamps the times.
        var viaStatus = await csrs.UpdateStatusAsync(updated with { Status = new CertificateSigningRequestStatus { Conditions = [Condition(CertificateSigners.Approved)] } });
        Assert.Null(viaStatus.Status?.Conditions);
        var approved = await csrs.UpdateSubresourceAsync(null, "stamped", "approval", viaStatus with { Status = new CertificateSigningRequestStatus { Conditions = [new() { Type = CertificateSigners.Approved, Status = "True", Reason = "KubectlApprove" }] } });
        var approval = Assert.Single(approved.Status!.Conditions!);
        Assert.Equal("KubectlApprove", approval.Reason);
        Assert.NotNull(approval.LastUpdateTime);
        Assert.NotNull(approval.LastTransitionTime);

        // Once approved it stays approved, and it cannot be denied besides.
        var removal = await Assert.ThrowsAsync<StatusException>(() => csrs.UpdateSubresourceAsync(null, "stamped", "approval", approved with { Status = new CertificateSigningRequestStatus() }));
        Assert.Equal(422, removal.Code);
        var both = await Assert.ThrowsAsync<StatusException>(() => csrs.UpdateSubresourceAsync(null, "stamped", "approval", approved with
        {
            Status = approved.Status with { Conditions = [.. approved.Status.Conditions!, Condition(CertificateSigners.Denied)] },
        }));
        Assert.Equal(422, both.Code);
        Assert.Contains("mutually exclusive", both.Message, StringComparison.Ordinal);

        // A status update keeps the approval, and a certificate, once written, cannot be changed.
        var current = await csrs.GetAsync(null, "stamped");
        var withFailed = await csrs.UpdateStatusAsync(current with { Status = new CertificateSigningRequestStatus { Conditions = [Condition(CertificateSigners.Failed)] } });
        Assert.Equal([CertificateSigners.Approved, CertificateSigners.Failed], withFailed.Status!.Conditions!.Select(c => c.Type!).Order(StringComparer.Ordinal));
        var notPem = await Assert.ThrowsAsync<StatusException>(() => csrs.UpdateStatusAsync(withFailed with { Status = withFailed.Status with { Certificate = "not a certificate"u8.ToArray() } }));
        Assert.Equal(422, notPem.Code);

        // Validation of new requests.
        async Task Refused(CertificateSigningRequest csr, string field)
        {
            var e = await Assert.ThrowsAsync<StatusException>(() => csrs.CreateAsync(csr));
            Assert.Equal(422, e.Code);
            Assert.Contains(field, e.Message, StringComparison.Ordinal);
        }

        var good = Pem("CN=x", key);
        await Refused(Request("notpem", "hello"u8.ToArray(), CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]), "spec.request");
        await Refused(Request("nosigner", good, null, [CertificateSigners.ClientAuth]), "spec.signerName");
        await Refused(Request("badsigner", good, "no-slash", [CertificateSigners.ClientAuth]), "spec.signerName");
        await Refused(Request("nousages", good, CertificateSigners.KubeApiServerClient, []), "spec.usages");
        await Refused(Request("badusage", good, CertificateSigners.KubeApiServerClient, ["flying"]), "spec.usages[0]");
        await Refused(Request("short", good, CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]) with
        {
            Spec = new CertificateSigningRequestSpec { Request = good, SignerName = CertificateSigners.KubeApiServerClient, Usages = [CertificateSigners.ClientAuth], ExpirationSeconds = 599 },
        }, "spec.expirationSeconds");
    }

    [Fact]
    public async Task Controllers_ApproveForBootstrappersAndSelf_SignWithTheClusterCa_AndLeaveTheRestToPeople()
    {
        await using var server = await TestApiServer.StartAsync();
        var host = server.Host;
        var (controllerCert, controllerKey) = ComponentIdentities.Issue(host.Certificates, ComponentIdentities.ControllerManager, TimeProvider.System);
        using var controllerClient = Client(server, c => c with { ClientCertificatePem = controllerCert, ClientKeyPem = controllerKey });
        using var stop = new CancellationTokenSource();
        var running = RunControllersAsync(controllerClient, host.Certificates, TimeProvider.System, stop.Token);
        var admin = server.Client.Resource<CertificateSigningRequest>();

        // A node token (kubesharp token create's default group) and a token of another group.
        var nodeToken = await CreateTokenAsync(server, "nodejn", BootstrapToken.DefaultNodeTokenGroup);
        var otherToken = await CreateTokenAsync(server, "readrs", "system:bootstrappers:readers");
        using var joiner = Client(server, c => c with { BearerToken = nodeToken });
        using var stranger = Client(server, c => c with { BearerToken = otherToken });

        // The other group may file requests once bound to system:node-bootstrapper, but that alone gets nothing approved.
        await server.Client.Resource<Kubesharp.Api.Rbac.V1.ClusterRoleBinding>().CreateAsync(new Kubesharp.Api.Rbac.V1.ClusterRoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "ClusterRoleBinding",
            Metadata = new ObjectMeta { Name = "readers-may-request" },
            RoleRef = new Kubesharp.Api.Rbac.V1.RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = "system:node-bootstrapper" },
            Subjects = [new Kubesharp.Api.Rbac.V1.Subject { ApiGroup = "rbac.authorization.k8s.io", Kind = "Group", Name = "system:bootstrappers:readers" }],
        });
        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await stranger.Resource<CertificateSigningRequest>().CreateAsync(NodeRequest("by-stranger", "n2", strangerKey));
        using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NodeRequest("by-joiner", "n1", nodeKey);
        request.Spec!.ExpirationSeconds = 3600;
        await joiner.Resource<CertificateSigningRequest>().CreateAsync(request);

        var issued = await ControllerCluster.EventuallyAsync(() => admin.GetAsync(null, "by-joiner"), c => c.Status?.Certificate is { Length: > 0 }, "the joiner's request to be approved and issued");
        var approval = Assert.Single(issued.Status!.Conditions!);
        Assert.Equal((CertificateSigners.Approved, "AutoApproved", CsrApprovingController.NodeClientMessage), (approval.Type, approval.Reason, approval.Message));
        Assert.Equal("system:bootstrap:nodejn", issued.Spec!.Username);

        // The certificate: the requested subject and key, client auth only, the asked lifetime, chained to the cluster CA.
        using var certificate = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(issued.Status.Certificate!));
        Assert.Equal("CN=system:node:n1, O=system:nodes", certificate.Subject);
        Assert.Equal(nodeKey.ExportSubjectPublicKeyInfo(), certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(["1.3.6.1.5.5.7.3.2"], certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value!));
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.InRange(certificate.NotAfter - certificate.NotBefore, TimeSpan.FromMinutes(64), TimeSpan.FromMinutes(66));
        Assert.True(ChainsTo(certificate, host.Certificates.CaPem));

        // The stranger's request is not approved.
        var pending = await admin.GetAsync(null, "by-stranger");
        Assert.Null(pending.Status?.Conditions);

        // With its certificate the node is system:node:n1, and it may renew its own certificate, not ask for another node's.
        var nodeKeyPem = nodeKey.ExportPkcs8PrivateKeyPem();
        using var node = Client(server, c => c with { ClientCertificatePem = certificate.ExportCertificatePem(), ClientKeyPem = nodeKeyPem });
        var review = await node.Resource<SelfSubjectReview>().CreateAsync(new SelfSubjectReview { ApiVersion = SelfSubjectReview.KubeApiVersion, Kind = SelfSubjectReview.KubeKind, Metadata = new ObjectMeta() });
        Assert.Equal("system:node:n1", review.Status!.UserInfo!.Username);
        Assert.Contains("system:nodes", review.Status.UserInfo.Groups!);
        using var renewalKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await node.Resource<CertificateSigningRequest>().CreateAsync(NodeRequest("renewal", "n1", renewalKey));
        using var otherNodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await node.Resource<CertificateSigningRequest>().CreateAsync(NodeRequest("for-n9", "n9", otherNodeKey));
        var renewed = await ControllerCluster.EventuallyAsync(() => admin.GetAsync(null, "renewal"), c => c.Status?.Certificate is { Length: > 0 }, "the node's renewal to be approved and issued");
        Assert.Equal(CsrApprovingController.SelfNodeClientMessage, renewed.Status!.Conditions!.Single().Message);

        // People approve and deny the rest: an approved API client request is signed, a denied one never, and one the
        // signer refuses (a server usage for a client signer) fails.
        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await admin.CreateAsync(Request("alice", Pem("CN=alice, O=devs", clientKey), CertificateSigners.KubeApiServerClient, [CertificateSigners.DigitalSignature, CertificateSigners.ClientAuth]));
        await admin.CreateAsync(Request("mallory", Pem("CN=mallory", clientKey), CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]));
        await admin.CreateAsync(Request("serverish", Pem("CN=web", clientKey), CertificateSigners.KubeApiServerClient, [CertificateSigners.ServerAuth]));
        await ApproveAsync(admin, "alice", CertificateSigners.Approved);
        await ApproveAsync(admin, "mallory", CertificateSigners.Denied);
        await ApproveAsync(admin, "serverish", CertificateSigners.Approved);
        var alice = await ControllerCluster.EventuallyAsync(() => admin.GetAsync(null, "alice"), c => c.Status?.Certificate is { Length: > 0 }, "alice's approved request to be issued");
        using (var aliceCertificate = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(alice.Status!.Certificate!)))
        {
            Assert.Equal("CN=alice, O=devs", aliceCertificate.Subject);
            Assert.True(ChainsTo(aliceCertificate, host.Certificates.CaPem));
            using var aliceClient = Client(server, c => c with { ClientCertificatePem = aliceCertificate.ExportCertificatePem(), ClientKeyPem = clientKey.ExportPkcs8PrivateKeyPem() });
            var whoami = await aliceClient.Resource<SelfSubjectReview>().CreateAsync(new SelfSubjectReview { ApiVersion = SelfSubjectReview.KubeApiVersion, Kind = SelfSubjectReview.KubeKind, Metadata = new ObjectMeta() });
            Assert.Equal("alice", whoami.Status!.UserInfo!.Username);
        }

        // An RSA key (what `openssl req -newkey rsa:2048` makes) under the cluster's ECDSA CA.
        using var rsaKey = RSA.Create(2048);
        var rsaRequest = Encoding.UTF8.GetBytes(new CertificateRequest("CN=bob", rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem());
        await admin.CreateAsync(Request("bob", rsaRequest, CertificateSigners.KubeApiServerClient, [CertificateSigners.DigitalSignature, CertificateSigners.KeyEncipherment, CertificateSigners.ClientAuth]));
        await ApproveAsync(admin, "bob", CertificateSigners.Approved);
        var bob = await ControllerCluster.EventuallyAsync(() => admin.GetAsync(null, "bob"), c => c.Status?.Certificate is { Length: > 0 } || c.Status?.Conditions?.Any(x => x.Type == CertificateSigners.Failed) == true, "bob's RSA request to be issued");
        Assert.NotNull(bob.Status!.Certificate);
        using (var bobCertificate = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(bob.Status.Certificate)))
        {
            Assert.Equal("CN=bob", bobCertificate.Subject);
            Assert.NotNull(bobCertificate.GetRSAPublicKey());
            Assert.True(ChainsTo(bobCertificate, host.Certificates.CaPem));
        }

        var failed = await ControllerCluster.EventuallyAsync(() => admin.GetAsync(null, "serverish"), c => c.Status?.Conditions?.Any(x => x.Type == CertificateSigners.Failed) == true, "the unsignable request to fail");
        var failure = failed.Status!.Conditions!.Single(c => c.Type == CertificateSigners.Failed);
        Assert.Equal(CsrSigningController.FailureReason, failure.Reason);
        Assert.Contains("server auth", failure.Message, StringComparison.Ordinal);
        Assert.Null(failed.Status.Certificate);

        // By now the controllers have seen every request: the stranger's, the other node's and the denied one stay so.
        Assert.Null((await admin.GetAsync(null, "by-stranger")).Status?.Conditions);
        Assert.Null((await admin.GetAsync(null, "for-n9")).Status?.Conditions);
        var denied = await admin.GetAsync(null, "mallory");
        Assert.Null(denied.Status!.Certificate);
        Assert.Equal([CertificateSigners.Denied], denied.Status.Conditions!.Select(c => c.Type!));

        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Cleaner_OnAFakeClock_DeletesByUpstreamAges()
    {
        await using var server = await TestApiServer.StartAsync();
        var clock = new ManualTimeProvider();
        clock.Advance(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1) - clock.GetUtcNow());
        var admin = server.Client.Resource<CertificateSigningRequest>();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await admin.CreateAsync(Request("pending", Pem("CN=p", key), CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]));
        await admin.CreateAsync(Request("approved", Pem("CN=a", key), CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]));
        await admin.CreateAsync(Request("denied", Pem("CN=d", key), CertificateSigners.KubeApiServerClient, [CertificateSigners.ClientAuth]));
        var now = clock.GetUtcNow();
        await ApproveAsync(admin, "approved", CertificateSigners.Approved, now);
        await ApproveAsync(admin, "denied", CertificateSigners.Denied, now - TimeSpan.FromMinutes(30));

        var informers = new SharedInformerFactory(server.Client);
        await using var _ = informers.ConfigureAwait(false);
        var context = new ControllerContext(server.Client, informers, new EventRecorder(server.Client, "kube-controller-manager"), new ControllerManagerOptions { LeaderElect = false }, clock, NullLoggerFactory.Instance);
        using var cleaner = new CsrCleanerController(context);
        cleaner.Register();
        using var stop = new CancellationTokenSource();
        informers.Start(stop.Token);
        await informers.WaitForCacheSyncAsync(stop.Token);

        // Due: denied half an hour from now, approved in an hour, the pending one a day after it was created.
        Assert.Equal(TimeSpan.FromMinutes(30), (await cleaner.ReconcileAsync("denied", CancellationToken.None)).RequeueAfter);
        Assert.Equal(TimeSpan.FromHours(1), (await cleaner.ReconcileAsync("approved", CancellationToken.None)).RequeueAfter);
        var pending = await admin.GetAsync(null, "pending");
        Assert.Equal(pending.Metadata!.CreationTimestamp + CsrCleanerController.PendingExpiration, CsrCleanerController.DeletionDue(pending));

        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Null((await cleaner.ReconcileAsync("denied", CancellationToken.None)).RequeueAfter);
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Null((await cleaner.ReconcileAsync("approved", CancellationToken.None)).RequeueAfter);
        var left = (await admin.ListAsync(null)).Items.Select(c => c.Metadata!.Name!).ToList();
        Assert.Equal(["pending"], left);
        await stop.CancelAsync();
    }

    private static async Task RunControllersAsync(KubernetesClient client, ClusterCertificates certificates, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var informers = new SharedInformerFactory(client);
        var options = new ControllerManagerOptions { LeaderElect = false };
        var context = new ControllerContext(client, informers, new EventRecorder(client, "kube-controller-manager"), options, time, NullLoggerFactory.Instance);
        IController[] controllers =
        [
            new CsrSigningController(context, new CertificateSigner(certificates.CaPem, certificates.CaKeyPem, options.ClusterSigningDuration)),
            new CsrApprovingController(context),
        ];
        foreach (var controller in controllers)
        {
            controller.Register();
        }

        informers.Start(cancellationToken);
        try
        {
            await Task.WhenAll(controllers.Select(c => c.RunAsync(cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var controller in controllers)
            {
                controller.Dispose();
            }
        }
    }

    private static KubernetesClient Client(TestApiServer server, Func<KubernetesClientOptions, KubernetesClientOptions> identity) =>
        new(identity(new KubernetesClientOptions { Server = server.Host.Url, CertificateAuthorityPem = server.Host.Certificates.CaPem }));

    private static async Task<string> CreateTokenAsync(TestApiServer server, string id, string group)
    {
        var secret = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 16);
        await server.Client.Resource<Secret>().CreateAsync(new Secret
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

    private static async Task ApproveAsync(ResourceClient<CertificateSigningRequest> csrs, string name, string type, DateTimeOffset? at = null)
    {
        // What `kubectl certificate approve|deny` sends: the object with one more condition, PUT on the approval subresource.
        var csr = await csrs.GetAsync(null, name);
        await csrs.UpdateSubresourceAsync(null, name, "approval", csr with
        {
            Status = new CertificateSigningRequestStatus { Conditions = [Condition(type) with { Reason = "KubectlApprove", LastUpdateTime = at }] },
        });
    }

    private static bool ChainsTo(X509Certificate2 certificate, string caPem)
    {
        using var ca = X509Certificate2.CreateFromPem(caPem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static CertificateSigningRequestCondition Condition(string type) => new() { Type = type, Status = "True", Reason = "Test" };

    private static byte[] Pem(string subject, ECDsa key) =>
        Encoding.UTF8.GetBytes(new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSigningRequestPem());

    private static CertificateSigningRequest NodeRequest(string name, string node, ECDsa key) =>
        Request(name, Pem($"CN=system:node:{node}, O=system:nodes", key), CertificateSigners.KubeApiServerClientKubelet, [CertificateSigners.DigitalSignature, CertificateSigners.ClientAuth]);

    private static CertificateSigningRequest Request(string name, byte[] request, string? signer, List<string> usages) => new()
    {
        ApiVersion = CertificateSigningRequest.KubeApiVersion,
        Kind = CertificateSigningRequest.KubeKind,
        Metadata = new ObjectMeta { Name = name },
        Spec = new CertificateSigningRequestSpec { Request = request, SignerName = signer, Usages = usages },
    };
}
