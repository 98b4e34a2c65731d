using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Tests;
using Kubesharp.Kubelet.Volumes;

namespace Kubesharp.Kubelet.Tests.Volumes;

public sealed class ServiceAccountTokenCacheTests
{
    [Fact]
    public async Task GetAsync_BeforeEightyPercentOfTheLifetime_KeepsTheToken_ThenRequestsANewOne()
    {
        await using var server = await TestApiServer.StartAsync();
        var client = server.Client;
        await client.Resource<ServiceAccount>().CreateAsync(new ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = new ObjectMeta { Name = "default", Namespace = "default" } });
        var pod = await client.Resource<Pod>().CreateAsync(new Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new ObjectMeta { Name = "holder", Namespace = "default" },
            Spec = new PodSpec { Containers = [new Container { Name = "c", Image = "busybox" }] },
        });
        var clock = new ShiftedClock();
        var cache = new ServiceAccountTokenCache(client, clock);
        var projection = new ServiceAccountTokenProjection { ExpirationSeconds = 600, Path = "token", Audience = "vault" };

        var first = Encoding.UTF8.GetString(await cache.GetAsync(pod, projection, CancellationToken.None));
        var claims = System.Text.Json.Nodes.JsonNode.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(first.Split('.')[1]))!;
        Assert.Equal("vault", (string?)claims["aud"]![0]);
        Assert.Equal(pod.Metadata!.Uid, (string?)claims["kubernetes.io"]!["pod"]!["uid"]);

        clock.Offset = TimeSpan.FromSeconds(600 * 0.78);
        Assert.Equal(first, Encoding.UTF8.GetString(await cache.GetAsync(pod, projection, CancellationToken.None)));

        clock.Offset = TimeSpan.FromSeconds(600 * 0.81);
        var renewed = Encoding.UTF8.GetString(await cache.GetAsync(pod, projection, CancellationToken.None));
        Assert.NotEqual(first, renewed);
        Assert.Equal(1, cache.Count);

        cache.Forget(pod.Metadata.Uid!);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task GetAsync_AccountMissing_FailsTheVolumeSetUp()
    {
        await using var server = await TestApiServer.StartAsync();
        var pod = await server.Client.Resource<Pod>().CreateAsync(new Pod
        {
            ApiVersion = "v1", Kind = "Pod",
            Metadata = new ObjectMeta { Name = "orphan", Namespace = "default" },
            Spec = new PodSpec { ServiceAccountName = "missing", Containers = [new Container { Name = "c", Image = "busybox" }] },
        });
        var cache = new ServiceAccountTokenCache(server.Client, TimeProvider.System);
        var error = await Assert.ThrowsAsync<VolumeSetupException>(() => cache.GetAsync(pod, new ServiceAccountTokenProjection { ExpirationSeconds = 3607, Path = "token" }, CancellationToken.None));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The real clock moved on by a chosen offset: the server's expiry times stay comparable.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
