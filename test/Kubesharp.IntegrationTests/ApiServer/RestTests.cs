using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

[Collection(ServerCollection.Name)]
public sealed class RestTests(TestServer server)
{
    private static string Ns() => "t" + Guid.NewGuid().ToString("N")[..10];

    private async Task<string> CreateNamespaceAsync()
    {
        var ns = Ns();
        var (status, _) = await server.PostAsync("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
        Assert.Equal(HttpStatusCode.Created, status);
        return ns;
    }

    private static string ConfigMap(string name, string labels = "{}") =>
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\",\"labels\":" + labels + "},\"data\":{\"k\":\"v\"}}";

    [Fact]
    public async Task Create_SetsServerFields_AndGetReturnsIt()
    {
        var ns = await CreateNamespaceAsync();
        var (status, created) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a"));
        Assert.Equal(HttpStatusCode.Created, status);
        var meta = created!["metadata"]!;
        Assert.False(string.IsNullOrEmpty((string?)meta["uid"]));
        Assert.False(string.IsNullOrEmpty((string?)meta["resourceVersion"]));
        Assert.False(string.IsNullOrEmpty((string?)meta["creationTimestamp"]));
        var (getStatus, fetched) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/a");
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Equal((string?)meta["uid"], (string?)fetched!["metadata"]!["uid"]);
    }

    [Fact]
    public async Task Create_Twice_Answers409AlreadyExists()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a"));
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("AlreadyExists", (string?)body!["reason"]);
        Assert.Equal("configmaps \"a\" already exists", (string?)body["message"]);
    }

    [Fact]
    public async Task Create_WithGenerateName_GeneratesName()
    {
        var ns = await CreateNamespaceAsync();
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var name = (string?)body!["metadata"]!["name"];
        Assert.StartsWith("gen-", name, StringComparison.Ordinal);
        Assert.Equal(9, name!.Length);
    }

    [Fact]
    public async Task Create_InMissingNamespace_Answers404ForNamespace()
    {
        var (status, body) = await server.PostAsync("/api/v1/namespaces/does-not-exist/configmaps", ConfigMap("a"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("namespaces \"does-not-exist\" not found", (string?)body!["message"]);
    }

    [Fact]
    public async Task Create_InvalidPod_Answers422WithFieldPaths()
    {
        var ns = await CreateNamespaceAsync();
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c"}]}}""");
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal("Invalid", (string?)body!["reason"]);
        var fields = body["details"]!["causes"]!.AsArray().Select(c => (string?)c!["field"]).ToList();
        Assert.Contains("metadata.name", fields);
        Assert.Contains("spec.containers[0].image", fields);
    }

    [Fact]
    public async Task Update_WithStaleResourceVersion_Answers409Conflict()
    {
        var ns = await CreateNamespaceAsync();
        var (_, created) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a"));
        created!["data"]!["k"] = "v2";
        var (okStatus, updated) = await server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/configmaps/a", created.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.NotEqual((string?)created["metadata"]!["resourceVersion"], (string?)updated!["metadata"]!["resourceVersion"]);
        created["data"]!["k"] = "v3";
        var (status, body) = await server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/configmaps/a", created.ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("Conflict", (string?)body!["reason"]);
    }

    [Fact]
    public async Task Update_SpecChange_BumpsGeneration_StatusChangeDoesNot()
    {
        var ns = await CreateNamespaceAsync();
        var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}}}""";
        var (status, created) = await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", deployment);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(1, (int?)created!["metadata"]!["generation"]);
        Assert.Equal(1, (int?)created["spec"]!["replicas"]);
        var (_, patched) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/d", """{"spec":{"replicas":3}}""", "application/merge-patch+json");
        Assert.Equal(2, (int?)patched!["metadata"]!["generation"]);
        var (_, statusPatched) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/d/status", """{"status":{"replicas":3}}""", "application/merge-patch+json");
        Assert.Equal(2, (int?)statusPatched!["metadata"]!["generation"]);
        Assert.Equal(3, (int?)statusPatched["status"]!["replicas"]);
        var (_, mainIgnoresStatus) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/d", """{"status":{"replicas":9}}""", "application/merge-patch+json");
        Assert.Equal(3, (int?)mainIgnoresStatus!["status"]!["replicas"]);
    }

    [Fact]
    public async Task Scale_GetAndPatch_ChangesReplicas()
    {
        var ns = await CreateNamespaceAsync();
        var deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}}}""";
        await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", deployment);
        var (status, scale) = await server.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/d/scale");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Scale", (string?)scale!["kind"]);
        Assert.Equal(2, (int?)scale["spec"]!["replicas"]);
        var (patchStatus, patched) = await server.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{ns}/deployments/d/scale", """{"spec":{"replicas":5}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.Equal(5, (int?)patched!["spec"]!["replicas"]);
        var (_, after) = await server.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/d");
        Assert.Equal(5, (int?)after!["spec"]!["replicas"]);
    }

    [Fact]
    public async Task List_LabelAndFieldSelectors_Filter()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a", """{"tier":"web"}"""));
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("b", """{"tier":"db"}"""));
        var (_, web) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps?labelSelector=tier%3Dweb");
        Assert.Equal(["a"], web!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
        var (_, notWeb) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps?labelSelector=tier+notin+(web)");
        Assert.Equal(["b"], notWeb!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
        var (_, byName) = await server.GetAsync($"/api/v1/configmaps?fieldSelector=metadata.name%3Db,metadata.namespace%3D{ns}");
        Assert.Equal(["b"], byName!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
        var (badStatus, _) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps?fieldSelector=spec.nothing%3Dx");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
    }

    [Fact]
    public async Task List_WithLimit_PagesThroughContinueTokens()
    {
        var ns = await CreateNamespaceAsync();
        for (var i = 0; i < 5; i++)
        {
            await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap($"c{i}"));
        }

        var names = new List<string?>();
        string? token = null;
        var pages = 0;
        do
        {
            var (status, page) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=2" + (token is null ? string.Empty : "&continue=" + Uri.EscapeDataString(token)));
            Assert.Equal(HttpStatusCode.OK, status);
            names.AddRange(page!["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
            token = (string?)page["metadata"]!["continue"];
            pages++;
        }
        while (!string.IsNullOrEmpty(token));
        Assert.Equal(["c0", "c1", "c2", "c3", "c4"], names);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task List_PlainListKind_ContentLengthMatchesBodyAndEnvelope()
    {
        var ns = await CreateNamespaceAsync();
        using var empty = await server.Client.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
        for (var i = 0; i < 3; i++)
        {
            await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap($"c{i}"));
        }

        using var full = await server.Client.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
        using var page = await server.Client.GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=1");

        foreach (var (response, names) in new[] { (empty, Array.Empty<string>()), (full, ["c0", "c1", "c2"]), (page, ["c0"]) })
        {
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
            var list = JsonNode.Parse(bytes)!;
            Assert.Equal("ConfigMapList", (string?)list["kind"]);
            Assert.Equal("v1", (string?)list["apiVersion"]);
            Assert.Equal(names, list["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
        }

        var paged = JsonNode.Parse(await page.Content.ReadAsByteArrayAsync())!;
        Assert.Equal(2, (long?)paged["metadata"]!["remainingItemCount"]);
        Assert.False(string.IsNullOrEmpty((string?)paged["metadata"]!["continue"]));
    }

    [Fact]
    public async Task List_WithGarbageContinueToken_Answers400()
    {
        var (status, _) = await server.GetAsync("/api/v1/configmaps?limit=1&continue=garbage");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Delete_WithFinalizer_SetsDeletionTimestamp_UntilFinalizerRemoved()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f","finalizers":["example.com/hold"]}}""");
        var (status, deleting) = await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/configmaps/f");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(deleting!["metadata"]!["deletionTimestamp"]);
        var (stillThere, _) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/f");
        Assert.Equal(HttpStatusCode.OK, stillThere);
        await server.SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/f", """{"metadata":{"finalizers":null}}""", "application/merge-patch+json");
        var (gone, _) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/f");
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    [Fact]
    public async Task Delete_WithStaleUidPrecondition_Answers409()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("p"));
        var (status, body) = await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}/configmaps/p", """{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}""");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("Precondition failed: UID in precondition", (string?)body!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_Create_DoesNotStore()
    {
        var ns = await CreateNamespaceAsync();
        var (status, _) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps?dryRun=All", ConfigMap("dry"));
        Assert.Equal(HttpStatusCode.Created, status);
        var (getStatus, _) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/dry");
        Assert.Equal(HttpStatusCode.NotFound, getStatus);
    }

    [Fact]
    public async Task DeleteNamespace_MarksTerminating_RefusesNewContent_ThenRemovesEverything()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("x"));
        var (status, deleting) = await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Terminating", (string?)deleting!["status"]!["phase"]);
        var (createStatus, refused) = await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("y"));
        if (createStatus != HttpStatusCode.NotFound)
        {
            Assert.Equal(HttpStatusCode.Forbidden, createStatus);
            Assert.Contains("because it is being terminated", (string?)refused!["message"], StringComparison.Ordinal);
        }

        await WaitUntilAsync(async () => (await server.GetAsync($"/api/v1/namespaces/{ns}")).Status == HttpStatusCode.NotFound);
        var (_, list) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
        Assert.Empty(list!["items"]!.AsArray());
    }

    [Fact]
    public async Task Service_GetsClusterIpAllocated()
    {
        var ns = await CreateNamespaceAsync();
        var (status, svc) = await server.PostAsync($"/api/v1/namespaces/{ns}/services", """{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var ip = (string?)svc!["spec"]!["clusterIP"];
        Assert.StartsWith("10.43.", ip, StringComparison.Ordinal);
        Assert.Equal(80, (int?)svc["spec"]!["ports"]![0]!["targetPort"]);
    }

    [Fact]
    public async Task Binding_AssignsNode_SecondBindingConflicts()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        var binding = """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}}""";
        var (status, _) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods/p/binding", binding);
        Assert.Equal(HttpStatusCode.Created, status);
        var (_, pod) = await server.GetAsync($"/api/v1/namespaces/{ns}/pods/p");
        Assert.Equal("n1", (string?)pod!["spec"]!["nodeName"]);
        var (again, _) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods/p/binding", binding);
        Assert.Equal(HttpStatusCode.Conflict, again);
    }

    [Fact]
    public async Task Binding_WritesNodeAndAnnotationsOnly_GenerationKept()
    {
        var ns = await CreateNamespaceAsync();
        var (_, created) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"keep":"1"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        var uid = (string?)created!["metadata"]!["uid"];
        var binding = $$$"""{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","uid":"{{{uid}}}","annotations":{"bound-by":"test"}},"target":{"name":"n1"}}""";

        var (status, _) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods/p/binding", binding);

        Assert.Equal(HttpStatusCode.Created, status);
        var (_, pod) = await server.GetAsync($"/api/v1/namespaces/{ns}/pods/p");
        Assert.Equal("n1", (string?)pod!["spec"]!["nodeName"]);
        Assert.Equal(1, (long?)pod["metadata"]!["generation"]);
        Assert.Equal("1", (string?)pod["metadata"]!["annotations"]!["keep"]);
        Assert.Equal("test", (string?)pod["metadata"]!["annotations"]!["bound-by"]);
        var scheduled = pod["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "PodScheduled");
        Assert.Equal("True", (string?)scheduled!["status"]);
    }

    [Fact]
    public async Task Binding_OtherUidGatedPodOrOtherKind_RefusedAndPodUnbound()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"gated"},"spec":{"schedulingGates":[{"name":"example.com/wait"}],"containers":[{"name":"c","image":"busybox"}]}}""");

        var (otherUid, otherUidBody) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods/p/binding", """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","uid":"not-this-pod"},"target":{"name":"n1"}}""");
        var (gated, gatedBody) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods/gated/binding", """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"gated"},"target":{"name":"n1"}}""");
        var (otherKind, otherKindBody) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods/p/binding", """{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Pod","name":"n1"}}""");

        Assert.Equal(HttpStatusCode.Conflict, otherUid);
        Assert.Contains("Precondition failed: UID in precondition: not-this-pod", (string?)otherUidBody!["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, gated);
        Assert.Contains("non-empty .spec.schedulingGates", (string?)gatedBody!["message"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherKind);
        Assert.Equal("target.kind", (string?)otherKindBody!["details"]!["causes"]![0]!["field"]);
        foreach (var name in new[] { "p", "gated" })
        {
            var (_, pod) = await server.GetAsync($"/api/v1/namespaces/{ns}/pods/{name}");
            Assert.Null(pod!["spec"]!["nodeName"]);
        }
    }

    [Fact]
    public async Task PodStatusUpdate_SpecStoredUnderOlderRules_WrittenWithoutCheckingSpecAgain()
    {
        var ns = await CreateNamespaceAsync();
        // A container name today's validation refuses, as a pod written under older rules (or by another server) may hold.
        await server.Store.CreateAsync(
            $"/registry/pods/{ns}/old",
            System.Text.Encoding.UTF8.GetBytes($$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"old","namespace":"{{{ns}}}","uid":"{{{Guid.NewGuid()}}}","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n1","containers":[{"name":"Old_Name","image":"busybox"}]},"status":{"phase":"Pending"}}"""),
            CancellationToken.None);
        var (_, stored) = await server.GetAsync($"/api/v1/namespaces/{ns}/pods/old");
        var status = stored!.DeepClone().AsObject();
        status["status"] = new JsonObject { ["phase"] = "Running" };

        var (statusCode, written) = await server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/pods/old/status", status.ToJsonString());
        var (specCode, _) = await server.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/pods/old", written!.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, statusCode);
        Assert.Equal("Running", (string?)written["status"]!["phase"]);
        Assert.Equal("Old_Name", (string?)written["spec"]!["containers"]![0]!["name"]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, specCode);
    }

    [Fact]
    public async Task Table_ForPods_HasUpstreamColumns()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        var (status, table) = await server.GetAsync($"/api/v1/namespaces/{ns}/pods", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Table", (string?)table!["kind"]);
        Assert.Equal(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("p", (string?)cells[0]);
        Assert.Equal("0/1", (string?)cells[1]);
        Assert.Equal("Pending", (string?)cells[2]);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(100, timeout.Token);
        }
    }
    [Fact]
    public async Task Create_DeploymentTemplate_GetsSchemeDefaultsButNoPodAdmissionDefaults()
    {
        var ns = await CreateNamespaceAsync();
        var (status, created) = await server.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},
             "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"busybox:1"}]}}}}
            """);
        Assert.Equal(HttpStatusCode.Created, status);
        var podSpec = created!["spec"]!["template"]!["spec"]!.AsObject();
        Assert.Equal("ClusterFirst", (string?)podSpec["dnsPolicy"]);
        Assert.Equal("Always", (string?)podSpec["restartPolicy"]);
        Assert.False(podSpec.ContainsKey("tolerations"));
        Assert.False(podSpec.ContainsKey("serviceAccountName"));
        Assert.False(podSpec.ContainsKey("priority"));

        var (podStatus, pod) = await server.PostAsync($"/api/v1/namespaces/{ns}/pods", """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}
            """);
        Assert.Equal(HttpStatusCode.Created, podStatus);
        Assert.Equal("default", (string?)pod!["spec"]!["serviceAccountName"]);
        Assert.Equal(2, pod["spec"]!["tolerations"]!.AsArray().Count);
    }

    [Fact]
    public async Task Patch_WithoutResourceVersion_AppliesToLatestAndNeverConflicts()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a"));
        var patches = Enumerable.Range(0, 16).Select(i => server.SendAsync(
            HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/a", "{\"data\":{\"k" + i + "\":\"v\"}}", "application/merge-patch+json"));
        var results = await Task.WhenAll(patches);
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        var (_, fetched) = await server.GetAsync($"/api/v1/namespaces/{ns}/configmaps/a");
        Assert.Equal(17, fetched!["data"]!.AsObject().Count);
    }

    [Fact]
    public async Task Patch_NamingStaleResourceVersion_Conflicts()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ConfigMap("a"));
        var (status, body) = await server.SendAsync(
            HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/a", """{"metadata":{"resourceVersion":"1"},"data":{"x":"y"}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("Conflict", (string?)body!["reason"]);
    }

    [Fact]
    public async Task Patch_RemovingLastOwnerReferenceAndFinalizer_OmitsTheEmptyLists()
    {
        var ns = await CreateNamespaceAsync();
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owned","finalizers":["example.com/hold"],
             "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"0b7c1f4e-0000-4000-8000-000000000001"}]}}
            """);
        var (status, patched) = await server.SendAsync(
            HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/owned", """[{"op":"remove","path":"/metadata/ownerReferences/0"},{"op":"remove","path":"/metadata/finalizers/0"}]""", "application/json-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        var meta = patched!["metadata"]!.AsObject();
        Assert.False(meta.ContainsKey("ownerReferences"));
        Assert.False(meta.ContainsKey("finalizers"));
    }
}
