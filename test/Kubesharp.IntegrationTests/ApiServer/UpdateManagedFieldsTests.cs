using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// managedFields on updates and patches: left out or sent empty they stay as stored (a client or cache unaware of
/// them cannot drop them), one empty entry resets them, and an update of a tracked object is recorded under its
/// manager.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class UpdateManagedFieldsTests(TestServer server)
{
    private readonly string name = "mf" + Guid.NewGuid().ToString("N")[..10];

    private string Path => $"/api/v1/namespaces/default/configmaps/{name}";

    /// <summary>Creates the ConfigMap by server-side apply (manager "applier" owns data.a and data.c) and reads it back.</summary>
    private async Task<JsonObject> ApplyAsync()
    {
        var (status, body) = await server.SendAsync(HttpMethod.Patch, Path + "?fieldManager=applier",
            $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"a":"1","c":"3"}}""", "application/apply-patch+yaml");
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Single(body!["metadata"]!["managedFields"]!.AsArray());
        return body;
    }

    private async Task<JsonObject> PutAsync(JsonObject body, string manager)
    {
        var (status, updated) = await server.SendAsync(HttpMethod.Put, Path + "?fieldManager=" + manager, body.ToJsonString());
        Assert.True(status == HttpStatusCode.OK, updated?.ToJsonString());
        return updated!;
    }

    private static JsonObject Entry(JsonObject obj, string manager) =>
        obj["metadata"]!["managedFields"]!.AsArray().Single(e => (string?)e!["manager"] == manager)!.AsObject();

    private Task DeleteAsync() => server.SendAsync(HttpMethod.Delete, Path);

    [Fact]
    public async Task Update_WithoutManagedFields_KeepsStoredAndRecordsUpdater()
    {
        var applied = await ApplyAsync();
        var body = applied.DeepClone().AsObject();
        body["metadata"]!.AsObject().Remove("managedFields");
        body["data"]!["a"] = "2";

        var updated = await PutAsync(body, "updater");

        var applier = Entry(updated, "applier");
        Assert.Equal("Apply", (string?)applier["operation"]);
        Assert.Equal("""{"f:data":{"f:c":{}}}""", applier["fieldsV1"]!.ToJsonString());
        var updater = Entry(updated, "updater");
        Assert.Equal("Update", (string?)updater["operation"]);
        Assert.Equal("v1", (string?)updater["apiVersion"]);
        Assert.Equal("""{"f:data":{"f:a":{}}}""", updater["fieldsV1"]!.ToJsonString());
        var (_, read) = await server.GetAsync(Path);
        Assert.True(JsonNode.DeepEquals(updated["metadata"]!["managedFields"], read!["metadata"]!["managedFields"]));

        // A second update by the same manager changes its entry rather than adding one.
        body = read.DeepClone().AsObject();
        body["metadata"]!["managedFields"] = new JsonArray();
        body["data"]!["b"] = "2";
        updated = await PutAsync(body, "updater");
        Assert.Equal(2, updated["metadata"]!["managedFields"]!.AsArray().Count);
        Assert.Equal("""{"f:data":{"f:a":{},"f:b":{}}}""", Entry(updated, "updater")["fieldsV1"]!.ToJsonString());
        await DeleteAsync();
    }

    [Fact]
    public async Task Update_NullManagedFields_KeepsStored()
    {
        var applied = await ApplyAsync();
        var body = applied.DeepClone().AsObject();
        body["metadata"]!["managedFields"] = null;
        body["metadata"]!["labels"] = new JsonObject { ["x"] = "y" };

        var updated = await PutAsync(body, "labeller");

        Assert.Equal("""{"f:data":{"f:a":{},"f:c":{}}}""", Entry(updated, "applier")["fieldsV1"]!.ToJsonString());
        Assert.Equal("""{"f:metadata":{"f:labels":{".":{},"f:x":{}}}}""", Entry(updated, "labeller")["fieldsV1"]!.ToJsonString());
        await DeleteAsync();
    }

    [Fact]
    public async Task Update_OneEmptyEntry_ResetsManagedFields()
    {
        var applied = await ApplyAsync();
        var body = applied.DeepClone().AsObject();
        body["metadata"]!["managedFields"] = new JsonArray(new JsonObject());

        var updated = await PutAsync(body, "resetter");

        Assert.Null(updated["metadata"]!["managedFields"]);
        var (_, read) = await server.GetAsync(Path);
        Assert.Null(read!["metadata"]!["managedFields"]);
        await DeleteAsync();
    }

    [Fact]
    public async Task Update_UntrackedObject_StaysUntracked()
    {
        var (status, created) = await server.PostAsync("/api/v1/namespaces/default/configmaps",
            $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"a":"1"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        created!["data"]!["a"] = "2";

        var updated = await PutAsync(created, "updater");

        Assert.Equal("2", (string?)updated["data"]!["a"]);
        Assert.Null(updated["metadata"]!["managedFields"]);
        await DeleteAsync();
    }

    [Fact]
    public async Task Patch_TrackedObject_LeavesManagedFieldsAsStored()
    {
        var applied = await ApplyAsync();

        var (status, patched) = await server.SendAsync(HttpMethod.Patch, Path + "?fieldManager=patcher", """{"data":{"b":"2"}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("2", (string?)patched!["data"]!["b"]);
        Assert.True(JsonNode.DeepEquals(applied["metadata"]!["managedFields"], patched["metadata"]!["managedFields"]));

        // A patch that empties them keeps them too; one empty entry resets them.
        (status, patched) = await server.SendAsync(HttpMethod.Patch, Path, """{"metadata":{"managedFields":[]}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonNode.DeepEquals(applied["metadata"]!["managedFields"], patched!["metadata"]!["managedFields"]));
        (status, patched) = await server.SendAsync(HttpMethod.Patch, Path, """{"metadata":{"managedFields":[{}]}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(patched!["metadata"]!["managedFields"]);
        await DeleteAsync();
    }

    [Fact]
    public async Task Update_InvalidFieldManager_IsUnprocessable()
    {
        var applied = await ApplyAsync();

        var (status, body) = await server.SendAsync(HttpMethod.Put, Path + "?fieldManager=" + new string('m', 129), applied.ToJsonString());

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("Status", (string?)body!["kind"]);
        await DeleteAsync();
    }
}
