using System.Text;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Client.Tests.Informers;

/// <summary>
/// Objects an older server stored with wrong-typed fields: the API may refuse such writes today, so the tests
/// put them in the store directly, under the running server.
/// </summary>
public sealed class SharedInformerUndecodableTests
{
    private static ConfigMap ConfigMap(string name) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default" },
        Data = new() { ["k"] = "v" },
    };

    private static Task StorePoisonAsync(TestApiServer server, string key, string json) =>
        server.Store.CreateAsync(key, Encoding.UTF8.GetBytes(json), CancellationToken.None);

    private static string PoisonConfigMap(string name) =>
        $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","namespace":"default","uid":"{{{Guid.NewGuid()}}}","creationTimestamp":"2025-01-01T00:00:00Z"},"data":{"k":1}}""";

    [Fact]
    public async Task ListAsync_WrongTypedObjects_ServesTheOthersAndNamesTheSkipped()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        await maps.CreateAsync(ConfigMap("good-a"));
        await StorePoisonAsync(server, "/registry/configmaps/default/poison-data", PoisonConfigMap("poison-data"));
        await StorePoisonAsync(server, "/registry/configmaps/default/poison-finalizers",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"poison-finalizers","namespace":"default","finalizers":[1]},"data":{}}""");
        await maps.CreateAsync(ConfigMap("good-z"));

        var all = await maps.ListAllAsync("default", new ListOptions { Limit = 1 });

        Assert.Equal(["good-a", "good-z"], all.Items.Select(m => m.Metadata!.Name!).Where(n => n.StartsWith("good", StringComparison.Ordinal)).Order().ToArray());
        Assert.DoesNotContain(all.Items, m => m.Metadata!.Name!.StartsWith("poison", StringComparison.Ordinal));
        Assert.Equal(["default/poison-data", "default/poison-finalizers"], all.Undecodable.Select(u => u.Key).Order().ToArray());
        Assert.All(all.Undecodable, u => Assert.Equal("ConfigMap", u.Kind));
        Assert.All(all.Undecodable, u => Assert.False(string.IsNullOrEmpty(u.ResourceVersion)));
        Assert.Contains("data", all.Undecodable.Single(u => u.Name == "poison-data").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Informer_WrongTypedObjectsInListAndWatch_LogsEachOnceAndServesTheRest()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        await maps.CreateAsync(ConfigMap("good-a"));
        await StorePoisonAsync(server, "/registry/configmaps/default/poison-listed", PoisonConfigMap("poison-listed"));
        var logger = new RecordingLogger();
        var informer = new SharedInformer<ConfigMap>(maps, new SharedInformerOptions { Namespace = "default" }, logger: logger);
        var deleted = new List<string>();
        informer.AddEventHandler(onDelete: m => { lock (deleted) { deleted.Add(m.Metadata!.Name!); } });
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);

        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Eventually.Patience);
        Assert.NotNull(informer.Lister.Get("default", "good-a"));
        Assert.Null(informer.Lister.Get("default", "poison-listed"));

        // On the watch: a poison object, then a good one behind it must still arrive.
        await StorePoisonAsync(server, "/registry/configmaps/default/poison-watched", PoisonConfigMap("poison-watched"));
        await maps.CreateAsync(ConfigMap("good-b"));
        await Eventually.TrueAsync(() => informer.Lister.Get("default", "good-b") is not null, "good-b behind the poison event");

        // A good object turned bad leaves the cache, as a relist would leave it out.
        var goodA = await server.Store.GetAsync("/registry/configmaps/default/good-a", 0, CancellationToken.None);
        await server.Store.UpdateAsync(goodA!.Key, Encoding.UTF8.GetBytes(PoisonConfigMap("good-a")), goodA.ModRevision, CancellationToken.None);
        await maps.CreateAsync(ConfigMap("good-c"));
        await Eventually.TrueAsync(() => informer.Lister.Get("default", "good-c") is not null, "good-c");
        Assert.Null(informer.Lister.Get("default", "good-a"));
        lock (deleted)
        {
            Assert.Equal(["good-a"], deleted);
        }

        await stop.CancelAsync();
        await run.WaitAsync(Eventually.Patience);

        var skipped = logger.Entries.Where(e => e.Message.StartsWith("Skipping", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, skipped.Count);
        Assert.All(skipped, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.All(skipped, e => Assert.Contains("ConfigMap", e.Message, StringComparison.Ordinal));
        Assert.Single(skipped, e => e.Message.Contains("default/poison-listed", StringComparison.Ordinal));
        Assert.Single(skipped, e => e.Message.Contains("default/poison-watched", StringComparison.Ordinal));
        Assert.Single(skipped, e => e.Message.Contains("default/good-a", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Entries, e => e.Message.StartsWith("Watch of", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WatchAsync_WrongTypedObject_LeftOutOfTheStream()
    {
        await using var server = await TestApiServer.StartAsync();
        var maps = server.Client.Resource<ConfigMap>();
        var start = await maps.ListAsync("default");
        using var stop = new CancellationTokenSource(Eventually.Patience);
        await using var events = maps.WatchAsync("default", new ListOptions { ResourceVersion = start.ResourceVersion }, stop.Token).GetAsyncEnumerator(stop.Token);
        await StorePoisonAsync(server, "/registry/configmaps/default/poison", PoisonConfigMap("poison"));
        await maps.CreateAsync(ConfigMap("good"));

        Assert.True(await events.MoveNextAsync());

        Assert.Equal(("good", WatchEventType.Added), (events.Current.Object.Metadata!.Name, events.Current.Type));
    }

    [Fact]
    public async Task Informer_WrongTypedReplicas_OtherDeploymentsServed()
    {
        await using var server = await TestApiServer.StartAsync();
        await StorePoisonAsync(server, "/registry/deployments.apps/default/poison",
            """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"poison","namespace":"default"},"spec":{"replicas":1.5,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""");
        await using var factory = new SharedInformerFactory(server.Client);
        var informer = factory.Informer<Deployment>();
        factory.Start(CancellationToken.None);
        await factory.WaitForCacheSyncAsync(CancellationToken.None).WaitAsync(Eventually.Patience);

        await server.Client.Resource<Deployment>().CreateAsync(new Deployment
        {
            Metadata = new ObjectMeta { Name = "good", Namespace = "default" },
            Spec = new DeploymentSpec
            {
                Selector = new LabelSelector { MatchLabels = new() { ["a"] = "b" } },
                Template = new PodTemplateSpec
                {
                    Metadata = new ObjectMeta { Labels = new() { ["a"] = "b" } },
                    Spec = new PodSpec { Containers = [new Container { Name = "c", Image = "i" }] },
                },
            },
        });

        await Eventually.TrueAsync(() => informer.Lister.Get("default", "good") is not null, "the good deployment");
        Assert.Null(informer.Lister.Get("default", "poison"));
    }
}
