using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;

namespace Kubesharp.Client.Tests.Informers;

public sealed class SharedObjectTableTests
{
    private static byte[] Json(string uid, string version, string managedFields = "") =>
        Encoding.UTF8.GetBytes($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m","namespace":"default","uid":"{{{uid}}}",{{{managedFields}}}"resourceVersion":"{{{version}}}"},"data":{"k":"v"}}""");

    [Fact]
    public void Find_HeldVersion_ReturnsTheInstanceWithoutDecoding_OtherVersionsAndShapesNot()
    {
        var uid = Guid.NewGuid().ToString();
        var held = new ConfigMap { Metadata = new ObjectMeta { Name = "m", Namespace = "default", Uid = uid, ResourceVersion = "5" } };
        Assert.Same(held, SharedObjectTable<ConfigMap>.Share(held));

        Assert.Same(held, SharedObjectTable<ConfigMap>.Find(Json(uid, "5"), trims: false));
        Assert.Same(held, SharedObjectTable<ConfigMap>.Find(Json(uid, "5"), trims: true));
        Assert.Null(SharedObjectTable<ConfigMap>.Find(Json(uid, "6"), trims: false));
        Assert.Null(SharedObjectTable<ConfigMap>.Find(Json(Guid.NewGuid().ToString(), "5"), trims: false));

        // With managedFields in the JSON, only an informer that trims them may take the trimmed instance.
        var withManagedFields = Json(uid, "5", "\"managedFields\":[{\"manager\":\"test\",\"operation\":\"Apply\"}],");
        Assert.Null(SharedObjectTable<ConfigMap>.Find(withManagedFields, trims: false));
        Assert.Same(held, SharedObjectTable<ConfigMap>.Find(withManagedFields, trims: true));

        // Not an object with metadata: left to the decoder.
        Assert.Null(SharedObjectTable<ConfigMap>.Find("[1,2]"u8, trims: false));
        Assert.Null(SharedObjectTable<ConfigMap>.Find("{\"metadata\":{\"uid\":"u8, trims: false));

        // A newer version replaces the held one.
        var newer = new ConfigMap { Metadata = new ObjectMeta { Name = "m", Namespace = "default", Uid = uid, ResourceVersion = "6" } };
        Assert.Same(newer, SharedObjectTable<ConfigMap>.Share(newer));
        Assert.Same(newer, SharedObjectTable<ConfigMap>.Find(Json(uid, "6"), trims: false));
        Assert.Null(SharedObjectTable<ConfigMap>.Find(Json(uid, "5"), trims: false));
        GC.KeepAlive(held);
    }

    [Fact]
    public void Share_MetadataOfAnotherKindAtTheSameVersion_IsTheInstanceHeldAlready()
    {
        var uid = Guid.NewGuid().ToString();
        var pod = new Pod { Metadata = Meta(uid, "5", "web-1") };
        var sharedPod = SharedObjectTable<Pod>.Share(pod);

        // The garbage collector's metadata-only copy of the same version takes the pod's metadata.
        var partial = new PartialObjectMetadata { ApiVersion = "meta.k8s.io/v1", Kind = "PartialObjectMetadata", Metadata = Meta(uid, "5", "web-1") };
        var sharedPartial = SharedObjectTable<PartialObjectMetadata>.Share(partial);
        Assert.Same(sharedPod.Metadata, sharedPartial.Metadata);

        // Another version keeps its own.
        var newer = new PartialObjectMetadata { Metadata = Meta(uid, "6", "web-1") };
        Assert.NotSame(sharedPod.Metadata, SharedObjectTable<PartialObjectMetadata>.Share(newer).Metadata);
        GC.KeepAlive(sharedPod);
    }

    [Fact]
    public void Share_ObjectsWithEqualLabels_HoldOneLabelSet()
    {
        var first = SharedObjectTable<Pod>.Share(new Pod { Metadata = Meta(Guid.NewGuid().ToString(), "1", "web-1") });
        var second = SharedObjectTable<Pod>.Share(new Pod { Metadata = Meta(Guid.NewGuid().ToString(), "1", "web-2") });

        Assert.Same(first.Metadata!.Labels, second.Metadata!.Labels);
        Assert.Equal(("web-1", "web-2"), (first.Metadata.Name, second.Metadata.Name));
    }

    private static ObjectMeta Meta(string uid, string version, string name) => new()
    {
        Name = name,
        Namespace = "shop",
        Uid = uid,
        ResourceVersion = version,
        Labels = new() { ["app"] = "web", ["pod-template-hash"] = "5d8f" },
    };
}
