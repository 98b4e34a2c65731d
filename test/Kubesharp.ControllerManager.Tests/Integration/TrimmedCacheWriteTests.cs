using Kubesharp.Api.Rbac.V1;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.Tests.Integration;

/// <summary>
/// The controller manager's informers drop managedFields; an object a controller updates from that cache keeps
/// the ones stored, and the controller's change is recorded under its own manager.
/// </summary>
public sealed class TrimmedCacheWriteTests(ControllerCluster cluster) : IClassFixture<ControllerCluster>
{
    [Fact]
    public async Task ClusterRoleAggregation_UpdateFromTrimmedCache_KeepsAppliedManagedFields()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var aggregate = "aggregate-" + suffix;
        var roles = cluster.Client.Resource<ClusterRole>();
        await roles.PatchAsync(null, aggregate, PatchType.Apply,
            $$$"""{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"{{{aggregate}}}","labels":{"team":"a"}},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"aggregate-to":"{{{suffix}}}"}}]}}""",
            new PatchOptions { FieldManager = "applier" });

        await roles.PatchAsync(null, "source-" + suffix, PatchType.Apply,
            $$$"""{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"source-{{{suffix}}}","labels":{"aggregate-to":"{{{suffix}}}"}},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get"]}]}""",
            new PatchOptions { FieldManager = "applier" });

        var aggregated = await ControllerCluster.EventuallyAsync(() => roles.GetAsync(null, aggregate), r => r.Rules is { Count: 1 }, "the aggregated rules");
        var managers = aggregated.Metadata!.ManagedFields!;
        var applier = Assert.Single(managers, m => m.Manager == "applier");
        Assert.Equal("Apply", applier.Operation);
        Assert.Contains("f:aggregationRule", applier.FieldsV1!.ToJsonString(), StringComparison.Ordinal);
        var controller = Assert.Single(managers, m => m.Manager == "kube-controller-manager");
        Assert.Equal("Update", controller.Operation);
        Assert.Contains("f:rules", controller.FieldsV1!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("a", aggregated.Metadata.Labels!["team"]);

        await roles.DeleteAsync(null, aggregate);
        await roles.DeleteAsync(null, "source-" + suffix);
    }
}
