using Kubesharp.Api.Core.V1;
using Kubesharp.Client.Informers;

namespace Kubesharp.Client.Tests.Informers;

public sealed class SharedInformerSharingTests
{
    [Fact]
    public async Task Informers_OfOneProcess_CacheOneInstancePerVersion_ButKeepManagedFieldsApart()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        await maps.CreateAsync(new ConfigMap { Metadata = new() { Name = "plain", Namespace = "default" }, Data = new Dictionary<string, string> { ["k"] = "1" } });
        // Server-side apply records managedFields.
        await maps.PatchAsync("default", "applied", PatchType.Apply, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied","namespace":"default"},"data":{"k":"v"}}""",
            new PatchOptions { FieldManager = "test" });

        // Three components of one process: two that trim managedFields (a controller manager, a scheduler) and one that keeps them.
        var first = new SharedInformer<ConfigMap>(maps, new SharedInformerOptions { Namespace = "default", TrimManagedFields = true });
        var second = new SharedInformer<ConfigMap>(maps, new SharedInformerOptions { Namespace = "default", TrimManagedFields = true });
        var keeping = new SharedInformer<ConfigMap>(maps, new SharedInformerOptions { Namespace = "default" });
        using var stop = new CancellationTokenSource();
        var runs = new[] { first.RunAsync(stop.Token), second.RunAsync(stop.Token), keeping.RunAsync(stop.Token) };
        await Task.WhenAll(first.WaitForSyncAsync(CancellationToken.None), second.WaitForSyncAsync(CancellationToken.None), keeping.WaitForSyncAsync(CancellationToken.None))
            .WaitAsync(Eventually.Patience);

        // Listed: one instance of each object for the trimming informers; the plain one (no managedFields) is the keeping informer's too.
        Assert.Same(first.Lister.Get("default", "plain"), second.Lister.Get("default", "plain"));
        Assert.Same(first.Lister.Get("default", "plain"), keeping.Lister.Get("default", "plain"));
        Assert.Same(first.Lister.Get("default", "applied"), second.Lister.Get("default", "applied"));
        Assert.NotSame(first.Lister.Get("default", "applied"), keeping.Lister.Get("default", "applied"));
        Assert.Null(first.Lister.Get("default", "applied")!.Metadata!.ManagedFields);
        Assert.NotEmpty(keeping.Lister.Get("default", "applied")!.Metadata!.ManagedFields!);

        // Watched: a new version replaces the shared one in every informer, still one instance.
        var current = await maps.GetAsync("default", "plain");
        current.Data = new Dictionary<string, string> { ["k"] = "2" };
        var updated = await maps.UpdateAsync(current);
        bool AllAtUpdate() => new[] { first, second, keeping }.All(i => i.Lister.Get("default", "plain")?.Metadata?.ResourceVersion == updated.Metadata!.ResourceVersion);
        await Eventually.TrueAsync(AllAtUpdate, "every informer at the update");
        Assert.Same(first.Lister.Get("default", "plain"), second.Lister.Get("default", "plain"));
        Assert.Same(first.Lister.Get("default", "plain"), keeping.Lister.Get("default", "plain"));
        Assert.Equal("2", first.Lister.Get("default", "plain")!.Data!["k"]);

        await stop.CancelAsync();
        await Task.WhenAll(runs).WaitAsync(Eventually.Patience);
    }

    [Fact]
    public async Task Factory_FieldSelectedInformer_IsSharedPerSelector_AndHoldsOnlyWhatItSelects()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        await maps.CreateAsync(new ConfigMap { Metadata = new() { Name = "wanted", Namespace = "default" } });
        await maps.CreateAsync(new ConfigMap { Metadata = new() { Name = "other", Namespace = "default" } });
        await using var factory = new SharedInformerFactory(server.Client);

        var selected = factory.Informer<ConfigMap>("metadata.name=wanted");
        Assert.Same(selected, factory.Informer<ConfigMap>("metadata.name=wanted"));
        Assert.NotSame(selected, factory.Informer<ConfigMap>());
        Assert.Same(factory.Informer<ConfigMap>(), factory.Informer<ConfigMap>(null));
        using var stop = new CancellationTokenSource();
        factory.Start(stop.Token);
        await factory.WaitForCacheSyncAsync(CancellationToken.None).WaitAsync(Eventually.Patience);

        Assert.Equal(["wanted"], selected.Lister.List().Select(c => c.Metadata!.Name));
        Assert.NotNull(factory.Informer<ConfigMap>().Lister.Get("default", "other"));
        await maps.CreateAsync(new ConfigMap { Metadata = new() { Name = "later", Namespace = "default" } });
        await Eventually.TrueAsync(() => factory.Informer<ConfigMap>().Lister.Get("default", "later") is not null, "the unfiltered informer to see the new ConfigMap");
        Assert.Equal(["wanted"], selected.Lister.List().Select(c => c.Metadata!.Name));
    }
}
