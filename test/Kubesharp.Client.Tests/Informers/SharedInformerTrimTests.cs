using Kubesharp.Api.Core.V1;
using Kubesharp.Client.Informers;

namespace Kubesharp.Client.Tests.Informers;

public sealed class SharedInformerTrimTests
{
    // Server-side apply records managedFields.
    private static Task<ConfigMap> ApplyAsync(ResourceClient<ConfigMap> maps, string name) =>
        maps.PatchAsync("default", name, PatchType.Apply, $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","namespace":"default"},"data":{"k":"v"}}""",
            new PatchOptions { FieldManager = "test" });

    [Fact]
    public async Task Informer_TrimManagedFields_CachesListedAndWatchedObjectsWithoutThem()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        var listed = await ApplyAsync(maps, "listed");
        Assert.NotEmpty(listed.Metadata!.ManagedFields!);
        var trimmed = new SharedInformer<ConfigMap>(maps, new SharedInformerOptions { Namespace = "default", TrimManagedFields = true });
        var kept = new SharedInformer<ConfigMap>(maps, new SharedInformerOptions { Namespace = "default" });
        var handed = new List<ConfigMap>();
        trimmed.AddEventHandler(onAdd: m => { lock (handed) { handed.Add(m); } });
        using var stop = new CancellationTokenSource();
        var runs = new[] { trimmed.RunAsync(stop.Token), kept.RunAsync(stop.Token) };
        await Task.WhenAll(trimmed.WaitForSyncAsync(CancellationToken.None), kept.WaitForSyncAsync(CancellationToken.None)).WaitAsync(Eventually.Patience);

        await ApplyAsync(maps, "watched");
        await Eventually.TrueAsync(() => trimmed.Lister.Get("default", "watched") is not null && kept.Lister.Get("default", "watched") is not null, "the watched ConfigMap");

        foreach (var name in new[] { "listed", "watched" })
        {
            Assert.Null(trimmed.Lister.Get("default", name)!.Metadata!.ManagedFields);
            Assert.NotEmpty(kept.Lister.Get("default", name)!.Metadata!.ManagedFields!);
        }

        lock (handed)
        {
            Assert.All(handed, m => Assert.Null(m.Metadata!.ManagedFields));
        }

        await stop.CancelAsync();
        await Task.WhenAll(runs).WaitAsync(Eventually.Patience);
    }
}
