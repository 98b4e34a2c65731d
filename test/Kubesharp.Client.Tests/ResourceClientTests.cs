using System.Text;
using Kubesharp.Api.Apps.V1;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.Client.Tests;

public sealed class ResourceClientTests
{
    private static readonly KubernetesClient Client = new(new KubernetesClientOptions { Server = new Uri("https://127.0.0.1:1") });

    [Fact]
    public void Path_NamespacedCoreResource_UsesApiPrefix() =>
        Assert.Equal("/api/v1/namespaces/default/pods/web/binding", Client.Resource<Pod>().Path("default", "web", "binding"));

    [Fact]
    public void Path_GroupResourceAllNamespaces_UsesApisPrefix() =>
        Assert.Equal("/apis/apps/v1/deployments", Client.Resource<Deployment>().Path(null, null, null));

    [Fact]
    public void Path_ClusterScoped_IgnoresNamespace() =>
        Assert.Equal("/api/v1/nodes/n1/status", Client.Resource<Node>().Path("default", "n1", "status"));

    [Fact]
    public void Query_ListOptions_EscapedInOrder()
    {
        var query = ResourceClient<Pod>.Query(new ListOptions { LabelSelector = "app in (a,b)", Limit = 500, ResourceVersion = "7", AllowWatchBookmarks = true }, watch: true);

        Assert.Equal("?watch=true&labelSelector=app%20in%20%28a%2Cb%29&limit=500&resourceVersion=7&allowWatchBookmarks=true", query);
    }

    [Fact]
    public void ReadList_PodList_ItemsAndContinue()
    {
        var json = """{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"""u8;

        var list = ResourceClient<Pod>.ReadList(json);

        Assert.Equal(["a", "b"], list.Items.Select(p => p.Metadata!.Name));
        Assert.Equal("42", list.ResourceVersion);
        Assert.Equal("abc", list.Continue);
    }

    [Fact]
    public void ReadList_Empty_BuildsNoMetadataForItsKind()
    {
        // Building a kind's JSON metadata is much of a process's start; most kinds a starting process lists are empty.
        var list = ResourceClient<KindWithoutMetadata>.ReadList("""{"kind":"WidgetList","metadata":{"resourceVersion":"5"},"items":[]}"""u8);

        Assert.Empty(list.Items);
        Assert.Equal("5", list.ResourceVersion);
        // The kind really has none: an item of it needs it and fails.
        Assert.ThrowsAny<Exception>(() => ResourceClient<KindWithoutMetadata>.ReadList("""{"items":[{"metadata":{"name":"a"}}]}"""u8));
    }

    [Fact]
    public void ParseEvent_Bookmark_BuildsNoMetadataForItsKind()
    {
        // Every informer's watch gets bookmarks, kinds without objects too: a bookmark reads only its metadata.
        var line = Encoding.UTF8.GetBytes("""{"type":"BOOKMARK","object":{"kind":"Widget","apiVersion":"example.com/v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}""");

        var e = ResourceClient<KindWithoutMetadata>.ParseEvent(line, 0, line.Length);

        Assert.Equal(WatchEventType.Bookmark, e!.Type);
        Assert.Equal("12", e.Object.Metadata!.ResourceVersion);
        Assert.Equal("true", e.Object.Metadata.Annotations!["k8s.io/initial-events-end"]);
        Assert.Equal(("example.com/v1", "Widget"), (e.Object.ApiVersion, e.Object.Kind));
        // The kind really has none: any other event of it needs it and fails.
        var modified = Encoding.UTF8.GetBytes("""{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"13"}}}""");
        Assert.ThrowsAny<Exception>(() => ResourceClient<KindWithoutMetadata>.ParseEvent(modified, 0, modified.Length));
    }

    [Fact]
    public void ParseEvent_ObjectBeforeType_Typed()
    {
        var line = Encoding.UTF8.GetBytes("""{"object":{"metadata":{"name":"a","resourceVersion":"9"}},"type":"MODIFIED"}""");

        var e = ResourceClient<Pod>.ParseEvent(line, 0, line.Length);

        Assert.Equal(WatchEventType.Modified, e!.Type);
        Assert.Equal("9", e.Object.Metadata!.ResourceVersion);
    }

    [Fact]
    public void ParseEvent_ErrorGone_ThrowsResourceExpired()
    {
        var line = Encoding.UTF8.GetBytes("""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}""");

        var error = Assert.Throws<StatusException>(() => ResourceClient<Pod>.ParseEvent(line, 0, line.Length));

        Assert.True(error.IsResourceExpired());
        Assert.Equal("too old resource version: 1 (5)", error.Message);
    }

    [Fact]
    public void ToException_StatusBody_KeepsReasonAndDetails()
    {
        var body = """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}"""u8;

        var error = KubernetesJson.ToException(404, body);

        Assert.True(error.IsNotFound());
        Assert.Equal("x", error.Details!.Name);
    }

    [Fact]
    public void DeepCopy_Pod_IndependentOfOriginal()
    {
        var pod = new Pod { Metadata = new() { Name = "a", Labels = new() { ["k"] = "v" } } };

        var copy = KubernetesJson.DeepCopy(pod);
        copy.Metadata!.Labels!["k"] = "changed";

        Assert.Equal("v", pod.Metadata.Labels["k"]);
    }

    /// <summary>A kind the client's JSON contexts do not hold.</summary>
    private sealed class KindWithoutMetadata : IKubernetesObject, IKubernetesKind
    {
        public static GroupVersionKind GroupVersionKind { get; } = new("example.com", "v1", "Widget");

        public string? ApiVersion { get; set; }

        public string? Kind { get; set; }

        public ObjectMeta? Metadata { get; set; }
    }
}
