using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client.Tests;

public sealed class ResourceClientIntegrationTests
{
    private static ConfigMap ConfigMap(string name, string value) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default", Labels = new() { ["app"] = "t" } },
        Data = new() { ["k"] = value },
    };

    [Fact]
    public async Task CreateGetUpdateDelete_ConfigMap_RoundTrips()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();

        var created = await maps.CreateAsync(ConfigMap("a", "1"));
        var read = await maps.GetAsync("default", "a");
        read.Data!["k"] = "2";
        var updated = await maps.UpdateAsync(read);
        var deleted = await maps.DeleteAsync("default", "a");

        Assert.Equal("1", created.Data!["k"]);
        Assert.Equal("2", updated.Data!["k"]);
        Assert.NotEqual(created.Metadata!.ResourceVersion, updated.Metadata!.ResourceVersion);
        Assert.Null(deleted?.Metadata?.DeletionTimestamp);
        var missing = await Assert.ThrowsAsync<StatusException>(() => maps.GetAsync("default", "a"));
        Assert.True(missing.IsNotFound());
    }

    [Fact]
    public async Task UpdateAsync_StaleResourceVersion_Conflict()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        var created = await maps.CreateAsync(ConfigMap("a", "1"));
        await maps.UpdateAsync(created with { Data = new() { ["k"] = "2" } });

        var error = await Assert.ThrowsAsync<StatusException>(() => maps.UpdateAsync(created with { Data = new() { ["k"] = "3" } }));

        Assert.True(error.IsConflict());
    }

    [Fact]
    public async Task PatchAsync_MergeAndStrategic_Applied()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        await maps.CreateAsync(ConfigMap("a", "1"));

        await maps.PatchAsync("default", "a", PatchType.Merge, """{"data":{"m":"x"}}""");
        var patched = await maps.PatchAsync("default", "a", PatchType.StrategicMerge, """{"metadata":{"labels":{"s":"y"}}}""");

        Assert.Equal("x", patched.Data!["m"]);
        Assert.Equal("y", patched.Metadata!.Labels!["s"]);
    }

    [Fact]
    public async Task ListAsync_LimitAndLabelSelector_Paginates()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        for (var i = 0; i < 5; i++)
        {
            await maps.CreateAsync(ConfigMap($"m{i}", "v"));
        }

        var page = await maps.ListAsync("default", new ListOptions { Limit = 2, LabelSelector = "app=t" });
        var all = await maps.ListAllAsync("default", new ListOptions { Limit = 2, LabelSelector = "app=t" });

        Assert.Equal(2, page.Items.Count);
        Assert.False(string.IsNullOrEmpty(page.Continue));
        Assert.Equal(5, all.Items.Count);
    }

    [Fact]
    public async Task WatchAsync_FromListVersion_SeesLaterChangesInOrder()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        var list = await maps.ListAsync("default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = new List<WatchEvent<ConfigMap>>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in maps.WatchAsync("default", new ListOptions { ResourceVersion = list.ResourceVersion }, cts.Token))
            {
                events.Add(e);
                if (events.Count == 3)
                {
                    return;
                }
            }
        });

        var created = await maps.CreateAsync(ConfigMap("w", "1"));
        await maps.UpdateAsync(created with { Data = new() { ["k"] = "2" } });
        await maps.DeleteAsync("default", "w");
        await watching;

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
    }

    [Fact]
    public async Task WatchAsync_CompactedVersion_ResourceExpired()
    {
        await using var server = await TestApiServer.StartAsync(watchCacheEventsPerResource: 5);
        var maps = server.Client.Resource<ConfigMap>();
        var first = await maps.CreateAsync(ConfigMap("c0", "v"));
        for (var i = 1; i < 20; i++)
        {
            await maps.CreateAsync(ConfigMap($"c{i}", "v"));
        }

        var error = await Assert.ThrowsAsync<StatusException>(async () =>
        {
            await foreach (var unused in maps.WatchAsync("default", new ListOptions { ResourceVersion = first.Metadata!.ResourceVersion }))
            {
            }
        });

        Assert.True(error.IsResourceExpired());
    }

    [Fact]
    public async Task BindAsync_UnboundPod_SetsNodeName()
    {
        await using var server = await TestApiServer.StartAsync();
        var pods = server.Client.Resource<Pod>();
        await pods.CreateAsync(new Pod
        {
            Metadata = new ObjectMeta { Name = "p", Namespace = "default" },
            Spec = new PodSpec { Containers = [new Container { Name = "c", Image = "busybox" }] },
        });

        await pods.BindAsync("default", "p", "node-1");

        Assert.Equal("node-1", (await pods.GetAsync("default", "p")).Spec!.NodeName);
    }
}
