using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class LabelSetPoolTests
{
    [Fact]
    public void Share_EqualSetsInAnyOrder_ReturnsTheFirst_OtherSetsTheirOwn()
    {
        var pool = new LabelSetPool(6);
        var first = new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = "5d8f" };

        Assert.Same(first, pool.Share(first));
        Assert.Same(first, pool.Share(new Dictionary<string, string> { ["pod-template-hash"] = "5d8f", ["app"] = "web" }));

        var otherValue = new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = "9c1a" };
        var fewer = new Dictionary<string, string> { ["app"] = "web" };
        var otherComparer = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["app"] = "web", ["pod-template-hash"] = "5d8f" };
        Assert.Same(otherValue, pool.Share(otherValue));
        Assert.Same(fewer, pool.Share(fewer));
        Assert.Same(otherComparer, pool.Share(otherComparer));
    }

    [Fact]
    public void Share_SetsHashedToOneSlot_NeverReturnsAnUnequalSet()
    {
        var pool = new LabelSetPool(0);
        for (var i = 0; i < 50; i++)
        {
            var labels = new Dictionary<string, string> { ["app"] = $"web-{i % 7}" };
            Assert.Equal(labels, pool.Share(labels));
        }
    }
}
