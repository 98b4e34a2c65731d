using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.Storage.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// A node whose registries.yaml mirrors <c>mirror.test</c> (a name nothing resolves) to a registry on loopback: a pod
/// with image <c>mirror.test/library/busybox:1</c> is pulled from the mirror and runs.
/// </summary>
public sealed class RegistryMirrorEndToEndTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);

    [RuntimeFact]
    public async Task Pod_ImageOfMirroredRegistry_IsPulledFromTheMirrorAndRuns()
    {
        Assert.True(File.Exists(DockerRegistry.BinaryPath), $"{DockerRegistry.BinaryPath} is missing: install docker-registry (test.sh does)");
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var root = Directory.CreateTempSubdirectory("ksm-").FullName;
        var bridge = "ksm" + id;
        var network = "ksm-test-" + id;
        await using var registry = await DockerRegistry.StartAsync();
        using (var http = new HttpClient())
        {
            var busybox = await OciImageBuilder.BuildBusyboxAsync("mirror.test/library/busybox:1", [], ["sh"]);
            await OciRegistryPusher.PushAsync(http, registry.BaseAddress, "library/busybox", "1", busybox);
        }

        // The mirror's host also gets credentials: containerd must take them beside its hosts directory (the registry asks for none).
        var registriesFile = Path.Combine(root, "registries.yaml");
        await File.WriteAllTextAsync(registriesFile, $"""
            mirrors:
              mirror.test:
                endpoint:
                  - "http://{registry.Host}"
            configs:
              "{registry.Host}":
                auth:
                  username: puller
                  password: not-checked
            """);
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(new FileLoggerProvider(Path.Combine(Path.GetTempPath(), "kubesharp-registry-mirror-e2e.log"))));
        var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(root, "server", "db", "state.db") }, CancellationToken.None);
        ApiServerHost? server = null;
        KubernetesClient? client = null;
        KubeletService? agent = null;
        try
        {
            server = await ApiServerHost.StartAsync(
                new ApiServerOptions { DataDir = Path.Combine(root, "server"), HttpsPort = 0 },
                store,
                BuiltinResources.Complete(ApiCatalog.Resources),
                null,
                NullLoggerFactory.Instance,
                TimeProvider.System,
                CancellationToken.None);
            await server.Ready;
            client = KubernetesClient.FromKubeconfig(server.KubeconfigPath);
            await client.Resource<ServiceAccount>().CreateAsync(new ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = new ObjectMeta { Name = "default", Namespace = "default" } });
            await client.Resource<ConfigMap>().CreateAsync(new ConfigMap
            {
                ApiVersion = "v1",
                Kind = "ConfigMap",
                Metadata = new ObjectMeta { Name = "kube-root-ca.crt", Namespace = "default" },
                Data = new() { ["ca.crt"] = server.Certificates.CaPem },
            });
            var dataDir = Path.Combine(root, "a");
            var options = new KubeletOptions
            {
                NodeName = "node-" + id,
                DataDir = dataDir,
                PodCidr = $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(256)}.0/24",
                BridgeName = bridge,
                NetworkName = network,
                NodeIp = "127.0.0.1",
                KubeletPort = 0,
                ContainerRuntime = new ContainerRuntimeOptions { Containerd = new ContainerdOptions { DataDir = dataDir, RegistriesFile = registriesFile } },
            };
            agent = new KubeletService(options, client, loggerFactory) { ClientCaPem = server.Certificates.CaPem };
            await agent.StartAsync(CancellationToken.None);
            await agent.Ready.WaitAsync(WaitLimit);

            using var timeout = new CancellationTokenSource(WaitLimit);
            var pods = client.Resource<Pod>();
            await pods.CreateAsync(new Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new ObjectMeta { Name = "mirrored", Namespace = "default" },
                Spec = new PodSpec
                {
                    NodeName = options.ResolvedNodeName,
                    TerminationGracePeriodSeconds = 0,
                    Containers = [new Container { Name = "c", Image = "mirror.test/library/busybox:1", ImagePullPolicy = "IfNotPresent", Command = ["sleep", "600"] }],
                },
            }, cancellationToken: timeout.Token);
            Pod pod;
            while ((pod = await pods.GetAsync("default", "mirrored", timeout.Token)).Status?.Phase != "Running")
            {
                await Task.Delay(200, timeout.Token);
            }

            var status = Assert.Single(pod.Status!.ContainerStatuses!);
            Assert.Equal("mirror.test/library/busybox:1", status.Image);
            Assert.NotNull(status.State?.Running);
        }
        finally
        {
            if (agent?.Runtime is { } runtime)
            {
                foreach (var sandbox in await runtime.Runtime.ListPodSandboxAsync())
                {
                    await runtime.Runtime.StopPodSandboxAsync(sandbox.Id);
                    await runtime.Runtime.RemovePodSandboxAsync(sandbox.Id);
                }
            }

            if (agent is not null)
            {
                await agent.StopAsync(CancellationToken.None);
                agent.Dispose();
            }

            client?.Dispose();
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            await store.DisposeAsync();
            HostCleanup.KillProcessesMentioning(root);
            HostCleanup.UnmountUnder(root);
            await HostCleanup.DeleteNatRulesAsync(network);
            await HostCleanup.DeleteLinkAsync(bridge);
            Directory.Delete(root, recursive: true);
        }
    }
}
