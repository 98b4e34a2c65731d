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
}
