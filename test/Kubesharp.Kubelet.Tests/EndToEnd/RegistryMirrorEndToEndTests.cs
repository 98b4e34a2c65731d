using System.Net;
using System.Net.Http.Headers;
using System.Text;
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
/// Nodes whose registries.yaml points image pulls at Debian's docker-registry on loopback: a mirror of a registry
/// nothing resolves, a mirror that rewrites repositories, and a registry that demands basic auth.
/// </summary>
public sealed class RegistryMirrorEndToEndTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);
    private const string HtpasswdPath = "/usr/bin/htpasswd";

    [RuntimeFact]
    public async Task Pod_ImageOfMirroredRegistry_IsPulledFromTheMirrorAndRuns()
    {
        await using var registry = await RegistryWithBusyboxAsync("library/busybox");

        // The mirror's host also gets credentials: containerd must take them beside its hosts directory (the registry asks for none).
        var registries = $"""
            mirrors:
              mirror.test:
                endpoint:
                  - "http://{registry.Host}"
            configs:
              "{registry.Host}":
                auth:
                  username: puller
                  password: not-checked
            """;
        await WithNodeAsync(registries, async (client, nodeName, _, cancellationToken) =>
        {
            var status = await RunningContainerAsync(client.Resource<Pod>(), nodeName, "mirrored", "mirror.test/library/busybox:1", cancellationToken);
            Assert.Equal("mirror.test/library/busybox:1", status.Image);
        });
    }

    [RuntimeFact]
    public async Task Pod_ImageWhoseRepositoryTheMirrorRewrites_IsPulledUnderTheRewrittenNameAndKeepsItsOwn()
    {
        // The mirror has the image only under the rewritten repository: asking it for library/busybox finds nothing.
        await using var registry = await RegistryWithBusyboxAsync("mirrored-project/busybox");

        var registries = $"""
            mirrors:
              rewrite.test:
                endpoint:
                  - "http://{registry.Host}"
                rewrite:
                  "^library/(.*)": "mirrored-project/$1"
            """;
        await WithNodeAsync(registries, async (client, nodeName, runtime, cancellationToken) =>
        {
            var status = await RunningContainerAsync(client.Resource<Pod>(), nodeName, "rewritten", "rewrite.test/library/busybox:1", cancellationToken);
            Assert.Equal("rewrite.test/library/busybox:1", status.Image);
            var image = await runtime.Images.ImageStatusAsync(new Kubesharp.Cri.V1.ImageSpec { Image = "rewrite.test/library/busybox:1" }, cancellationToken);
            Assert.NotNull(image);
            Assert.DoesNotContain(image.RepoTags, tag => tag.StartsWith(registry.Host, StringComparison.Ordinal));
        });
    }

    [RuntimeFact]
    public async Task Pod_RegistryDemandingBasicAuth_PullsWithTheConfiguredCredentialsAndFailsWithoutThem()
    {
        Assert.True(File.Exists(DockerRegistry.BinaryPath), $"{DockerRegistry.BinaryPath} is missing: install docker-registry (test.sh does)");
        Assert.True(File.Exists(HtpasswdPath), $"{HtpasswdPath} is missing: install apache2-utils (test.sh does)");
        var htpasswd = await HtpasswdLineAsync("puller", "s3cret-pass");
        await using var registry = await DockerRegistry.StartAsync(htpasswd);
        using (var http = new HttpClient())
        {
            using (var anonymous = await http.GetAsync(new Uri(registry.BaseAddress, "v2/")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("puller:s3cret-pass")));
            var busybox = await OciImageBuilder.BuildBusyboxAsync($"{registry.Host}/private/busybox:1", [], ["sh"]);
            await OciRegistryPusher.PushAsync(http, registry.BaseAddress, "private/busybox", "1", busybox);
        }

        // One registry under two names: credentials are configured for 127.0.0.1:port only, so localhost:port asks anonymously.
        var other = $"localhost:{registry.Port}";
        var registries = $"""
            mirrors:
              "{registry.Host}":
                endpoint: ["http://{registry.Host}"]
              "{other}":
                endpoint: ["http://{other}"]
            configs:
              "{registry.Host}":
                auth:
                  username: puller
                  password: s3cret-pass
            """;
        await WithNodeAsync(registries, async (client, nodeName, _, cancellationToken) =>
        {
            var pods = client.Resource<Pod>();
            var status = await RunningContainerAsync(pods, nodeName, "with-credentials", $"{registry.Host}/private/busybox:1", cancellationToken);
            Assert.Equal($"{registry.Host}/private/busybox:1", status.Image);

            await pods.CreateAsync(PodOn(nodeName, "without-credentials", $"{other}/private/busybox:1"), cancellationToken: cancellationToken);
            ContainerStateWaiting? waiting;
            while ((waiting = (await pods.GetAsync("default", "without-credentials", cancellationToken)).Status?.ContainerStatuses?.SingleOrDefault()?.State?.Waiting) is not
                   { Reason: "ErrImagePull" or "ImagePullBackOff" })
            {
                await Task.Delay(200, cancellationToken);
            }

            Assert.Contains("401 Unauthorized", waiting.Message, StringComparison.Ordinal);
            // Upstream's events: the cause under "Failed", then the waiting reason as "Error: ErrImagePull".
            List<string> events;
            do
            {
                events = [.. (await client.Resource<Event>().ListAsync("default", cancellationToken: cancellationToken)).Items
                    .Where(e => e.InvolvedObject?.Name == "without-credentials" && e.Reason == "Failed").Select(e => e.Message ?? "")];
                await Task.Delay(200, cancellationToken);
            }
            while (!(events.Any(m => m.StartsWith($"Failed to pull image \"{other}/private/busybox:1\"", StringComparison.Ordinal) && m.Contains("401 Unauthorized", StringComparison.Ordinal))
                     && events.Contains("Error: ErrImagePull")));
        });
    }

    /// <summary>A registry on loopback serving busybox as <paramref name="repository"/>:1.</summary>
    private static async Task<DockerRegistry> RegistryWithBusyboxAsync(string repository)
    {
        Assert.True(File.Exists(DockerRegistry.BinaryPath), $"{DockerRegistry.BinaryPath} is missing: install docker-registry (test.sh does)");
        var registry = await DockerRegistry.StartAsync();
        using var http = new HttpClient();
        await OciRegistryPusher.PushAsync(http, registry.BaseAddress, repository, "1", await OciImageBuilder.BuildBusyboxAsync("busybox:1", [], ["sh"]));
        return registry;
    }

    /// <summary>A bcrypt htpasswd line (the only kind docker-registry accepts) from apache2-utils' htpasswd.</summary>
    private static async Task<string> HtpasswdLineAsync(string user, string password)
    {
        var start = new System.Diagnostics.ProcessStartInfo(HtpasswdPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-Bbn", user, password })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(process.ExitCode == 0, await error);
        return (await output).Trim();
    }

    private static Pod PodOn(string nodeName, string name, string image) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = "default" },
        Spec = new PodSpec
        {
            NodeName = nodeName,
            TerminationGracePeriodSeconds = 0,
            Containers = [new Container { Name = "c", Image = image, ImagePullPolicy = "IfNotPresent", Command = ["sleep", "600"] }],
        },
    };

    /// <summary>Creates a pod with one container of <paramref name="image"/> and waits until it runs; returns its container's status.</summary>
    private static async Task<ContainerStatus> RunningContainerAsync(
        ResourceClient<Pod> pods, string nodeName, string name, string image, CancellationToken cancellationToken)
    {
        await pods.CreateAsync(PodOn(nodeName, name, image), cancellationToken: cancellationToken);
        Pod pod;
        while ((pod = await pods.GetAsync("default", name, cancellationToken)).Status?.Phase != "Running")
        {
            await Task.Delay(200, cancellationToken);
        }

        var status = Assert.Single(pod.Status!.ContainerStatuses!);
        Assert.NotNull(status.State?.Running);
        return status;
    }

    /// <summary>An API server and a node with the given registries.yaml; the body gets the client, the node's name and its runtime.</summary>
    private static async Task WithNodeAsync(string registriesYaml, Func<KubernetesClient, string, ContainerRuntime, CancellationToken, Task> body)
    {
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var root = Directory.CreateTempSubdirectory("ksm-").FullName;
        var bridge = "ksm" + id;
        var network = "ksm-test-" + id;
        var registriesFile = Path.Combine(root, "registries.yaml");
        await File.WriteAllTextAsync(registriesFile, registriesYaml);
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
            await body(client, options.ResolvedNodeName, agent.Runtime!, timeout.Token);
        }
        finally
        {
            if (agent?.Runtime is { } runtime)
            {
                await PodSandboxCleanup.RemoveAllAsync(runtime.Runtime);
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
            await HostCleanup.RemoveNodeAsync(root, network, bridge);
        }
    }
}
