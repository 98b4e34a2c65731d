using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Client.Tests;

public sealed class ObjectKeyTests
{
    [Fact]
    public void Of_SameNamespaceAndName_OneInstanceForEveryCaller()
    {
        var name = $"web-{Guid.NewGuid():N}";
        var pod = new Pod { Metadata = new ObjectMeta { Namespace = "shop", Name = name } };
        var decodedAgain = new Pod { Metadata = new ObjectMeta { Namespace = new string("shop".AsSpan()), Name = new string(name.AsSpan()) } };

        var key = ObjectKey.Of(pod);

        Assert.Equal($"shop/{name}", key);
        Assert.Same(key, ObjectKey.Of(decodedAgain));
        Assert.Same(key, ObjectKey.Of("shop", name));
    }

    [Fact]
    public void Of_OtherNamespaceOrScope_ItsOwnKey()
    {
        var name = $"web-{Guid.NewGuid():N}";

        Assert.Equal($"shop/{name}", ObjectKey.Of("shop", name));
        Assert.Equal($"shop2/{name}", ObjectKey.Of("shop2", name));
        Assert.Equal($"sho/p/{name}", ObjectKey.Of("sho", $"p/{name}"));
        Assert.Equal(name, ObjectKey.Of(null, name));
        Assert.Equal(name, ObjectKey.Of("", name));
        Assert.Equal(("shop", name), ObjectKey.Split(ObjectKey.Of("shop", name)));
    }
}
