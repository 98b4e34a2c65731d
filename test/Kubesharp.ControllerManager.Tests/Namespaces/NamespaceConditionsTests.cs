using Kubesharp.ControllerManager.Namespaces;

namespace Kubesharp.ControllerManager.Tests.Namespaces;

public sealed class NamespaceConditionsTests
{
    [Fact]
    public void Compute_ContentRemaining_ReportsResourcesAndFinalizers()
    {
        var conditions = NamespaceConditions.Compute(null, new Dictionary<string, int> { ["pods"] = 2 }, new Dictionary<string, int> { ["example.com/hold"] = 1 }, [], Objects.Epoch);

        var remaining = conditions.Single(c => c.Type == NamespaceConditions.ContentRemaining);
        Assert.Equal(("True", "SomeResourcesRemain", "Some resources are remaining: pods has 2 resource instances"), (remaining.Status, remaining.Reason, remaining.Message));
        var finalizers = conditions.Single(c => c.Type == NamespaceConditions.FinalizersRemaining);
        Assert.Equal("Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances", finalizers.Message);
        Assert.Equal("False", conditions.Single(c => c.Type == NamespaceConditions.DeletionContentFailure).Status);
    }

    [Fact]
    public void Compute_Unchanged_KeepsTransitionTimes()
    {
        var first = NamespaceConditions.Compute(null, new Dictionary<string, int>(), new Dictionary<string, int>(), [], Objects.Epoch);

        var second = NamespaceConditions.Compute(first, new Dictionary<string, int>(), new Dictionary<string, int>(), [], Objects.Epoch.AddMinutes(1));

        Assert.All(second, c => Assert.Equal(Objects.Epoch, c.LastTransitionTime));
    }
}
