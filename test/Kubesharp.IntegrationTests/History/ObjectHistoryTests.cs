using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiServer;
using Kubesharp.ApiServer.Discovery;
using Kubesharp.ApiServer.History;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;
using Kubesharp.Storage;
using Kubesharp.Storage.Sqlite;
using Kubesharp.Storage.Tests.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.History;

/// <summary>
/// Object history through the API server over a real store (SQLite file, etcd): every create, update, patch and delete
/// is a revision with its user and field manager, past states are read by revision and time, deleted objects are
/// listed, and reading history takes the same get permission as the object.
/// </summary>
public sealed class ObjectHistoryTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kubesharp-hist-" + Guid.NewGuid().ToString("N"));
    private EtcdServer? _etcd;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDir);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("etcd")]
    public async Task History_CreateUpdatePatchDelete_EveryRevisionWithUserManagerAndPastStates(string backend)
    {
        await using var store = await OpenStoreAsync(backend);
        if (store is null)
        {
            return;
        }

        await using var host = await StartAsync(store);
        using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        var maps = client.Resource<ConfigMap>();
        const string path = "/api/v1/namespaces/default/configmaps/app";
        await client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps?fieldManager=creator", ConfigMapJson("red"));
        var created = await client.GetJsonAsync(path);
        var replacement = ConfigMapJson("green");
        replacement["metadata"]!["resourceVersion"] = created!["metadata"]!["resourceVersion"]!.DeepClone();
        await client.SendJsonAsync(HttpMethod.Put, path + "?fieldManager=updater", replacement);
        await maps.PatchAsync("default", "app", PatchType.Merge, """{"data":{"color":"yellow"}}""", new PatchOptions { FieldManager = "patcher" });
        await maps.PatchAsync("default", "app", PatchType.Apply, """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app"},"data":{"color":"blue"}}""", new PatchOptions { FieldManager = "applier", Force = true });
        await maps.DeleteAsync("default", "app");

        var list = (await client.GetJsonAsync(path + "/history"))!;
        Assert.Equal("RevisionList", (string?)list["kind"]);
        var items = list["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        Assert.Equal(["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"], items.Select(i => (string?)i["type"]));
        // Only server-side apply stamps managedFields here: the other writes are known by their user.
        Assert.Equal([null, null, null, "applier", null], items.Select(i => (string?)i["manager"]));
        Assert.All(items, i => Assert.Equal(ClusterCertificatesAdmin, (string?)i["user"]));
        Assert.Equal(["red", "green", "yellow", "blue", "blue"], items.Select(i => (string?)i["object"]!["data"]!["color"]));
        var revisions = items.Select(i => (long)i["revision"]!).ToList();
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(revisions[0].ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)items[0]["object"]!["metadata"]!["resourceVersion"]);

        // As it was at a revision (one between writes reads the write before it) and at a time.
        var atGreen = await client.GetJsonAsync($"{path}/history?revision={revisions[2] - 1}");
        Assert.Equal("green", (string?)atGreen!["data"]!["color"]);
        var atTime = await client.GetJsonAsync($"{path}/history?at={Uri.EscapeDataString((string)items[0]["time"]!)}");
        Assert.Equal("red", (string?)atTime!["data"]!["color"]);
        Assert.Equal("yellow", (string?)(await client.GetJsonAsync($"{path}/history?revision={revisions[3] - 1}"))!["data"]!["color"]);
        Assert.Null(await client.GetJsonAsync($"{path}/history?revision={revisions[4]}"));
        Assert.Null(await client.GetJsonAsync($"{path}/history?at=2001-01-01T00:00:00Z"));
        var gone = await NotFoundAsync(host, $"{path}/history?revision={revisions[4]}");
        Assert.Contains("configmaps \"app\" did not exist at revision", gone, StringComparison.Ordinal);
        var bad = await Assert.ThrowsAsync<StatusException>(() => client.GetJsonAsync($"{path}/history?at=yesterday"));
        Assert.Equal(400, bad.Code);

        // Deleted objects are listed until they are created again.
        var deleted = (await client.GetJsonAsync("/apis/history.kubesharp.io/v1/namespaces/default/deletedobjects"))!["items"]!.AsArray();
        var entry = Assert.Single(deleted, d => (string?)d!["name"] == "app")!;
        Assert.Equal("ConfigMap", (string?)entry["kind"]);
        Assert.Equal("v1", (string?)entry["apiVersion"]);
        Assert.Equal(revisions[4], (long)entry["revision"]!);
        Assert.Equal(ClusterCertificatesAdmin, (string?)entry["user"]);
        await client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", ConfigMapJson("again"));
        deleted = (await client.GetJsonAsync("/apis/history.kubesharp.io/v1/deletedobjects"))!["items"]!.AsArray();
        Assert.DoesNotContain(deleted, d => (string?)d!["name"] == "app");
        Assert.Equal(6, (await client.GetJsonAsync(path + "/history"))!["items"]!.AsArray().Count);

        // Secrets keep no history: their values stay where encryption can reach them.
        await client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "s" }, ["stringData"] = new JsonObject { ["k"] = "v" } });
        Assert.Contains("keeps no history of secrets", await NotFoundAsync(host, "/api/v1/namespaces/default/secrets/s/history"), StringComparison.Ordinal);
        await client.SendJsonAsync(HttpMethod.Delete, "/api/v1/namespaces/default/secrets/s", null);
        deleted = (await client.GetJsonAsync("/apis/history.kubesharp.io/v1/namespaces/default/deletedobjects"))!["items"]!.AsArray();
        Assert.DoesNotContain(deleted, d => (string?)d!["name"] == "s");
    }

    [Fact]
    public async Task History_WithoutGetOnTheObject_ForbiddenAndDeletedObjectsFiltered()
    {
        await using var store = (await OpenStoreAsync("sqlite"))!;
        await using var host = await StartAsync(store);
        using var admin = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        await admin.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", ConfigMapJson("red"));
        await admin.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/services", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "svc" },
            ["spec"] = new JsonObject { ["ports"] = new JsonArray(new JsonObject { ["port"] = 80 }) },
        });
        await admin.SendJsonAsync(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/app", null);
        await admin.SendJsonAsync(HttpMethod.Delete, "/api/v1/namespaces/default/services/svc", null);

        var (certificate, key) = host.Certificates.IssueClientCertificate("alice", [], TimeProvider.System);
        var kubeconfig = Path.Combine(_dataDir, "alice.yaml");
        Kubeconfig.Write(kubeconfig, Kubeconfig.Render(host.Url.ToString().TrimEnd('/'), host.Certificates.CaPem, certificate, key));
        using var alice = KubernetesClient.FromKubeconfig(kubeconfig);
        var denied = await Assert.ThrowsAsync<StatusException>(() => alice.GetJsonAsync("/api/v1/namespaces/default/configmaps/app/history"));
        Assert.Equal(403, denied.Code);
        Assert.Empty((await alice.GetJsonAsync("/apis/history.kubesharp.io/v1/namespaces/default/deletedobjects"))!["items"]!.AsArray());

        await admin.SendJsonAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", JsonNode.Parse("""
            {"metadata":{"name":"read-maps"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}
            """)!.AsObject());
        await admin.SendJsonAsync(HttpMethod.Post, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", JsonNode.Parse("""
            {"metadata":{"name":"alice"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"read-maps"},"subjects":[{"kind":"User","name":"alice"}]}
            """)!.AsObject());
        var history = await WaitForAsync(() => alice.GetJsonAsync("/api/v1/namespaces/default/configmaps/app/history"));
        Assert.Equal(2, history["items"]!.AsArray().Count);
        var listed = (await alice.GetJsonAsync("/apis/history.kubesharp.io/v1/namespaces/default/deletedobjects"))!["items"]!.AsArray();
        Assert.Equal(["app"], listed.Select(d => (string?)d!["name"]));
        var services = await Assert.ThrowsAsync<StatusException>(() => alice.GetJsonAsync("/api/v1/namespaces/default/services/svc/history"));
        Assert.Equal(403, services.Code);
        var write = await Assert.ThrowsAsync<StatusException>(() => admin.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps/app/history", new JsonObject()));
        Assert.Equal(405, write.Code);
    }

    [Fact]
    public async Task History_ServerWithoutRetention_KeepsNothingAndSaysHow()
    {
        await using var store = (await OpenStoreAsync("sqlite"))!;
        await using var host = await StartAsync(store, new HistoryOptions());
        using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        await client.SendJsonAsync(HttpMethod.Post, "/api/v1/namespaces/default/configmaps", ConfigMapJson("red"));
        Assert.Contains("--history-retention", await NotFoundAsync(host, "/api/v1/namespaces/default/configmaps/app/history"), StringComparison.Ordinal);
        await client.SendJsonAsync(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/app", null);
        Assert.Empty((await store.ListAsync("/kubesharp/", new Kubesharp.Storage.ListOptions(), CancellationToken.None)).Items);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("etcd")]
    public async Task History_RecordsOfTheEarlierFormat_UpgradedAtStartAndReadable(string backend)
    {
        await using var store = await OpenStoreAsync(backend);
        if (store is null)
        {
            return;
        }

        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        var red = await EarlierWriteAsync(store, "app", "red", hourAgo, "alice", "editor");
        var blue = await EarlierWriteAsync(store, "app", "blue", hourAgo.AddMinutes(1), "bob", null);
        var green = await EarlierWriteAsync(store, "app", "green", hourAgo.AddMinutes(2), "carol", null);
        var gone = await EarlierWriteAsync(store, "gone", "x", hourAgo.AddMinutes(3), "alice", null);
        var deleted = await EarlierWriteAsync(store, "gone", null, hourAgo.AddMinutes(4), "dave", null);

        // The earlier version let the store compact itself behind its head: the first revision is only in its copy.
        await store.CompactAsync(blue, CancellationToken.None);

        await using var host = await StartAsync(store);
        using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        var items = (await client.GetJsonAsync("/api/v1/namespaces/default/configmaps/app/history"))!["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        Assert.Equal([red, blue, green], items.Select(i => (long)i["revision"]!));
        Assert.Equal(["ADDED", "MODIFIED", "MODIFIED"], items.Select(i => (string?)i["type"]));
        Assert.Equal(["alice", "bob", "carol"], items.Select(i => (string?)i["user"]));
        Assert.Equal(["editor", null, null], items.Select(i => (string?)i["manager"]));
        Assert.Equal(["red", "blue", "green"], items.Select(i => (string?)i["object"]!["data"]!["color"]));
        Assert.Equal(hourAgo.AddMinutes(1).UtcDateTime, DateTime.Parse((string)items[1]["time"]!, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal), TimeSpan.FromMilliseconds(1));
        Assert.Equal("red", (string?)(await client.GetJsonAsync($"/api/v1/namespaces/default/configmaps/app/history?revision={red}"))!["data"]!["color"]);
        var goneItems = (await client.GetJsonAsync("/api/v1/namespaces/default/configmaps/gone/history"))!["items"]!.AsArray();
        Assert.Equal(["ADDED", "DELETED"], goneItems.Select(i => (string?)i!["type"]));
        Assert.Equal([gone, deleted], goneItems.Select(i => (long)i!["revision"]!));
        Assert.Equal(["alice", "dave"], goneItems.Select(i => (string?)i!["user"]));
        Assert.Contains((await client.GetJsonAsync("/apis/history.kubesharp.io/v1/namespaces/default/deletedobjects"))!["items"]!.AsArray(), d => (string?)d!["name"] == "gone");

        // Only the copy of the revision the store lost is left of the earlier keyspace; the rest is in the journal.
        var left = (await store.ListAsync("/kubesharp/history/", new Kubesharp.Storage.ListOptions(), CancellationToken.None)).Items;
        Assert.Equal([$"/kubesharp/history/configmaps/default/app/{red:D19}"], left.Select(i => i.Key));
        Assert.NotEmpty((await store.ListAsync(HistoryJournal.Prefix, new Kubesharp.Storage.ListOptions(), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task History_RecordsOfTheEarlierFormatOnAServerWithoutRetention_Removed()
    {
        await using var store = (await OpenStoreAsync("sqlite"))!;
        await EarlierWriteAsync(store, "app", "red", DateTimeOffset.UtcNow, "alice", null);
        await using var host = await StartAsync(store, new HistoryOptions());
        Assert.Empty((await store.ListAsync("/kubesharp/history/", new Kubesharp.Storage.ListOptions(), CancellationToken.None)).Items);
        Assert.NotNull(await store.GetAsync("/registry/configmaps/default/app", 0, CancellationToken.None));
    }

    /// <summary>
    /// A write as an earlier Kubesharp recorded it: the object in the store, then a copy of it with its time, user and
    /// field manager at /kubesharp/history/configmaps/default/NAME/REVISION; a deletion (null color) also in the index.
    /// </summary>
    private static async Task<long> EarlierWriteAsync(IStore store, string name, string? color, DateTimeOffset time, string user, string? manager)
    {
        var key = "/registry/configmaps/default/" + name;
        var obj = ConfigMapJson(color ?? string.Empty);
        obj["metadata"]!["name"] = name;
        obj["metadata"]!["namespace"] = "default";
        var current = await store.GetAsync(key, 0, CancellationToken.None);
        var bytes = System.Text.Encoding.UTF8.GetBytes(obj.ToJsonString());
        var written = color is null ? await store.DeleteAsync(key, 0, CancellationToken.None)
            : current is null ? await store.CreateAsync(key, bytes, CancellationToken.None)
            : await store.UpdateAsync(key, bytes, current.ModRevision, CancellationToken.None);
        var type = color is null ? "DELETED" : current is null ? "ADDED" : "MODIFIED";
        var stamp = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var record = new JsonObject { ["revision"] = written.ModRevision, ["time"] = stamp, ["type"] = type, ["user"] = user };
        if (manager is not null)
        {
            record["manager"] = manager;
        }

        record["object"] = JsonNode.Parse(color is null ? current!.Value.Span : bytes);
        await store.CreateAsync($"/kubesharp/history/configmaps/default/{name}/{written.ModRevision:D19}", System.Text.Encoding.UTF8.GetBytes(record.ToJsonString()), CancellationToken.None);
        if (color is null)
        {
            var deletion = new JsonObject
            {
                ["revision"] = written.ModRevision, ["time"] = stamp, ["type"] = type, ["user"] = user,
                ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["resource"] = "configmaps", ["namespace"] = "default", ["name"] = name, ["storageKey"] = key,
            };
            await store.CreateAsync($"/kubesharp/deleted/default/{written.ModRevision:D19}", System.Text.Encoding.UTF8.GetBytes(deletion.ToJsonString()), CancellationToken.None);
        }

        return written.ModRevision;
    }

    private const string ClusterCertificatesAdmin = "kubesharp-admin";

    private static JsonObject ConfigMapJson(string color) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = "app" },
        ["data"] = new JsonObject { ["color"] = color },
    };

    /// <summary>The message of the 404 Status a GET answers (the client library reads a 404 as absent).</summary>
    private static async Task<string> NotFoundAsync(ApiServerHost host, string path)
    {
        using var client = KubernetesClient.FromKubeconfig(host.KubeconfigPath);
        var error = await Assert.ThrowsAsync<StatusException>(() => client.SendRequiredJsonAsync(HttpMethod.Get, path, null, CancellationToken.None));
        Assert.Equal(404, error.Code);
        return error.Message;
    }

    private static async Task<JsonObject> WaitForAsync(Func<Task<JsonObject?>> read)
    {
        // RBAC follows role bindings through the watch cache: allowed shortly after the binding is created.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return (await read())!;
            }
            catch (StatusException e) when (e.Code == 403 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private async Task<IStore?> OpenStoreAsync(string backend)
    {
        if (backend == "sqlite")
        {
            return await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dataDir, "db", "state.db") }, CancellationToken.None);
        }

        if (!File.Exists(EtcdServer.Executable) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            return null;
        }

        _etcd = new EtcdServer();
        await _etcd.InitializeAsync();
        return await _etcd.OpenStoreAsync();
    }

    private async Task<ApiServerHost> StartAsync(IStore store, HistoryOptions? history = null)
    {
        var options = new ApiServerOptions { DataDir = _dataDir, HttpsPort = 0, History = history ?? new HistoryOptions { Retention = TimeSpan.FromDays(7) } };
        var host = await ApiServerHost.StartAsync(options, store, BuiltinResources.Complete(ApiCatalog.Resources), null, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None);
        await host.Ready;
        return host;
    }
}
