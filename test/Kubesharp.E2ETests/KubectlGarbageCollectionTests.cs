using System.Diagnostics;
using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// The garbage collector with custom resources, driven by the real kubectl against the real server: a CRD made
/// after the server started is watched without a restart, and custom objects own and depend on built-in ones.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlGarbageCollectionTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "gc" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "gc" + Guid.NewGuid().ToString("N")[..10] + ".example.com";

    private string Definition => new CustomResourceDefinitionManifest(_group, "gizmos", "Gizmo") + $$"""
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {{_ns}}
        """;

    public async Task InitializeAsync()
    {
        (await _kubectl.RunAsync(["apply", "-f", "-"], Definition, null)).Ok();
        (await K("wait", "--for=condition=Established", $"crd/gizmos.{_group}", "--timeout=60s")).Ok();
    }

    public async Task DisposeAsync()
    {
        // Leftover finalizers of a failed test must not hold the namespace or the CRD.
        foreach (var kind in new[] { "gizmos." + _group, "configmaps" })
        {
            var names = (await K("get", kind, "-n", _ns, "-o", "name", "--ignore-not-found")).Output;
            foreach (var name in names.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await K("patch", name, "-n", _ns, "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
            }
        }

        await K("delete", "crd", $"gizmos.{_group}", "--ignore-not-found", "--wait=false");
        await K("delete", "namespace", _ns, "--ignore-not-found", "--wait=false");
    }

    [Fact]
    public async Task DeleteNamespace_HoldingCustomResourcesOfNewCrd_DeletesThemWithIt()
    {
        await ApplyAsync(Gizmo("first") + "\n---\n" + Gizmo("second") + "\n---\n" + ConfigMap("plain"));

        (await K("delete", "namespace", _ns, "--timeout=120s")).Ok();

        // A namespace of the same name starts empty: nothing of the old one was left behind in the store.
        (await K("create", "namespace", _ns)).Ok();
        Assert.Equal(string.Empty, (await K("get", $"gizmos.{_group}", "-n", _ns, "-o", "name")).Ok().Output.Trim());
        Assert.Equal(string.Empty, (await K("get", "configmap", "plain", "-n", _ns, "-o", "name", "--ignore-not-found")).Ok().Output.Trim());
    }

    [Fact]
    public async Task Delete_ConfigMapOwningCustomResourceOfNewCrd_CollectsTheCustomResource()
    {
        var owner = await CreateConfigMapAsync("owner");
        await ApplyAsync(Gizmo("dependent", OwnerReference("v1", "ConfigMap", "owner", owner)));

        (await K("delete", "configmap", "owner", "-n", _ns)).Ok();

        await GoneAsync("gizmo", "dependent");
    }

    [Fact]
    public async Task Delete_CustomResourceOwningConfigMap_CollectsTheConfigMap()
    {
        await ApplyAsync(Gizmo("owner"));
        var owner = await UidAsync("gizmo", "owner");
        await ApplyAsync(ConfigMap("dependent", OwnerReference($"{_group}/v1", "Gizmo", "owner", owner)));
        await WaitUntilCollectorWatchesGizmosAsync();

        (await K("delete", "gizmo", "owner", "-n", _ns)).Ok();

        await GoneAsync("configmap", "dependent");
    }

    [Fact]
    public async Task Delete_ForegroundCustomResourceWithBlockingCustomDependent_WaitsForTheDependent()
    {
        await ApplyAsync(Gizmo("parent"));
        var parent = await UidAsync("gizmo", "parent");

        // The child's own finalizer keeps it (terminating) until the test lets it go.
        await ApplyAsync(Gizmo("child", OwnerReference($"{_group}/v1", "Gizmo", "parent", parent, blockOwnerDeletion: true), finalizer: "example.com/hold"));
        await WaitUntilCollectorWatchesGizmosAsync();

        (await K("delete", "gizmo", "parent", "-n", _ns, "--cascade=foreground", "--wait=false")).Ok();

        await EventuallyAsync(async () => (await K("get", "gizmo", "child", "-n", _ns, "-o", "jsonpath={.metadata.deletionTimestamp}")).Output.Length > 0, "the collector to delete the child");
        var waiting = (await K("get", "gizmo", "parent", "-n", _ns, "-o", "jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}")).Ok().Output;
        Assert.Contains("foregroundDeletion", waiting, StringComparison.Ordinal);

        (await K("patch", "gizmo", "child", "-n", _ns, "--type=json", "-p", "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]")).Ok();

        await GoneAsync("gizmo", "child");
        await GoneAsync("gizmo", "parent");
    }

    [Fact]
    public async Task Delete_OrphanCustomResource_KeepsDependentsAndRemovesTheirOwnerReferences()
    {
        await ApplyAsync(Gizmo("owner"));
        var owner = await UidAsync("gizmo", "owner");
        var reference = OwnerReference($"{_group}/v1", "Gizmo", "owner", owner);
        await ApplyAsync(ConfigMap("kept-map", reference) + "\n---\n" + Gizmo("kept-gizmo", reference));
        await WaitUntilCollectorWatchesGizmosAsync();

        (await K("delete", "gizmo", "owner", "-n", _ns, "--cascade=orphan", "--timeout=60s")).Ok();

        Assert.Contains("not found", (await K("get", "gizmo", "owner", "-n", _ns)).Error, StringComparison.Ordinal);
        Assert.Equal("kept-map:", (await K("get", "configmap", "kept-map", "-n", _ns, "-o", "jsonpath={.metadata.name}:{.metadata.ownerReferences}")).Ok().Output);
        Assert.Equal("kept-gizmo:", (await K("get", "gizmo", "kept-gizmo", "-n", _ns, "-o", "jsonpath={.metadata.name}:{.metadata.ownerReferences}")).Ok().Output);
    }

    [Fact]
    public async Task Collect_OwnerUidDoesNotMatch_DeletesDependentsOfBuiltInAndCustomOwners()
    {
        await CreateConfigMapAsync("real-map");
        await ApplyAsync(Gizmo("real-gizmo"));
        var realGizmo = await UidAsync("gizmo", "real-gizmo");

        // Same names as live owners, other uids: the owners these were made for are gone.
        await ApplyAsync(Gizmo("impostor", OwnerReference("v1", "ConfigMap", "real-map", Guid.NewGuid().ToString())));
        await ApplyAsync(ConfigMap("stale", OwnerReference($"{_group}/v1", "Gizmo", "real-gizmo", Guid.NewGuid().ToString())));
        await ApplyAsync(ConfigMap("owned", OwnerReference($"{_group}/v1", "Gizmo", "real-gizmo", realGizmo)));

        await GoneAsync("gizmo", "impostor");
        await GoneAsync("configmap", "stale");
        (await K("get", "configmap", "real-map", "-n", _ns)).Ok();
        (await K("get", "gizmo", "real-gizmo", "-n", _ns)).Ok();
        (await K("get", "configmap", "owned", "-n", _ns)).Ok();
    }

    /// <summary>
    /// Waits until the collector watches this test's new resource: a gizmo whose owner never existed is collected
    /// only once its resource is watched, so the scenarios that follow do not race the discovery of the CRD.
    /// </summary>
    private async Task WaitUntilCollectorWatchesGizmosAsync()
    {
        var probe = "probe-" + Guid.NewGuid().ToString("N")[..6];
        await ApplyAsync(Gizmo(probe, OwnerReference("v1", "ConfigMap", "never-existed", Guid.NewGuid().ToString())));
        await GoneAsync("gizmo", probe);
    }

    private async Task<Kubectl.Result> K(params string[] args) => await _kubectl.RunAsync(args);

    private async Task ApplyAsync(string yaml) => (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], yaml, null)).Ok();

    private async Task<string> CreateConfigMapAsync(string name)
    {
        await ApplyAsync(ConfigMap(name));
        return await UidAsync("configmap", name);
    }

    private async Task<string> UidAsync(string kind, string name) =>
        (await K("get", kind, name, "-n", _ns, "-o", "jsonpath={.metadata.uid}")).Ok().Output;

    private static string OwnerReference(string apiVersion, string kind, string name, string uid, bool blockOwnerDeletion = false) =>
        $"{{apiVersion: \"{apiVersion}\", kind: {kind}, name: {name}, uid: \"{uid}\", blockOwnerDeletion: {(blockOwnerDeletion ? "true" : "false")}}}";

    private string Gizmo(string name, string? ownerReference = null, string? finalizer = null) => $"""
        apiVersion: {_group}/v1
        kind: Gizmo
        metadata:
          name: {name}
          ownerReferences: [{ownerReference}]
          finalizers: [{finalizer}]
        spec:
          size: 3
        """;

    private static string ConfigMap(string name, string? ownerReference = null) => $"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
          ownerReferences: [{ownerReference}]
        data:
          a: b
        """;

    private async Task GoneAsync(string kind, string name) =>
        await EventuallyAsync(async () => (await K("get", kind, name, "-n", _ns, "-o", "name", "--ignore-not-found")).Ok().Output.Length == 0, $"{kind} {name} to be collected");

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"waited {clock.Elapsed} for {what}");
    }
}
