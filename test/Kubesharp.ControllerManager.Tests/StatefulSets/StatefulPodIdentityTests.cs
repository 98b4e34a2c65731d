using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.StatefulSets;

namespace Kubesharp.ControllerManager.Tests.StatefulSets;

public sealed class StatefulPodIdentityTests
{
    private static PersistentVolumeClaim ClaimTemplate(string name) => new()
    {
        Metadata = new ObjectMeta { Name = name, Labels = new() { ["tier"] = "db" } },
        Spec = new PersistentVolumeClaimSpec { AccessModes = ["ReadWriteOnce"], Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse("1Gi") } } },
    };

    [Fact]
    public void NewPod_VolumeClaimTemplates_MountTheOrdinalsClaims()
    {
        var set = StatefulSetPlannerTests.Set();
        set.Spec!.VolumeClaimTemplates = [ClaimTemplate("data")];
        set.Spec.Template!.Spec!.Volumes = [new Volume { Name = "data", EmptyDir = new EmptyDirVolumeSource() }, new Volume { Name = "config", EmptyDir = new EmptyDirVolumeSource() }];

        var pod = StatefulPodIdentity.NewPod(set, set.Spec.Template, "web-abc", 1);
        var claims = StatefulPodIdentity.Claims(set, 1);

        Assert.Equal("web-1", pod.Metadata!.Name);
        Assert.Equal("web-abc", pod.Metadata.Labels!["controller-revision-hash"]);
        Assert.Equal(["data", "config"], pod.Spec!.Volumes!.Select(v => v.Name));
        Assert.Equal("data-web-1", pod.Spec.Volumes![0].PersistentVolumeClaim!.ClaimName);
        var claim = Assert.Single(claims);
        Assert.Equal("data-web-1", claim.Metadata!.Name);
        Assert.Equal("default", claim.Metadata.Namespace);
        Assert.Equal("db", claim.Metadata.Labels!["tier"]);
        Assert.Equal("web", claim.Metadata.Labels["app"]);
    }

    [Theory]
    [InlineData("web-0", 0)]
    [InlineData("web-12", 12)]
    [InlineData("web-x", -1)]
    [InlineData("web-", -1)]
    [InlineData("other-1", -1)]
    [InlineData("web-web-1", -1)]
    public void Ordinal_PodName_ParsesOnlyTheSetsMembers(string name, int expected)
    {
        var set = StatefulSetPlannerTests.Set();

        Assert.Equal(expected, StatefulPodIdentity.Ordinal(set, new Pod { Metadata = new ObjectMeta { Name = name } }));
    }

    [Theory]
    [InlineData("Retain", "Retain", false, false, false)]
    [InlineData("Delete", "Retain", false, true, false)]
    [InlineData("Delete", "Retain", true, true, false)]
    [InlineData("Retain", "Delete", false, false, false)]
    [InlineData("Retain", "Delete", true, false, true)]
    [InlineData("Delete", "Delete", false, true, false)]
    [InlineData("Delete", "Delete", true, false, true)]
    public void DesiredOwners_RetentionPolicy_OwnsClaimsAsUpstream(string whenDeleted, string whenScaled, bool condemned, bool setOwns, bool podOwns)
    {
        var set = StatefulSetPlannerTests.Set();
        set.Spec!.PersistentVolumeClaimRetentionPolicy = new() { WhenDeleted = whenDeleted, WhenScaled = whenScaled };
        var pod = new Pod { Metadata = new ObjectMeta { Name = "web-2", Uid = "uid-web-2" } };
        var claim = new PersistentVolumeClaim { Metadata = new ObjectMeta { Name = "data-web-2", OwnerReferences = [new OwnerReference { Kind = "Other", Name = "x", Uid = "uid-x" }] } };

        var owners = StatefulSetClaimRetention.DesiredOwners(set, claim, pod, condemned) ?? claim.Metadata.OwnerReferences;

        Assert.Contains(owners, r => r.Uid == "uid-x");
        Assert.Equal(setOwns, owners.Any(r => r.Uid == "uid-web" && r.Kind == "StatefulSet"));
        Assert.Equal(podOwns, owners.Any(r => r.Uid == "uid-web-2" && r.Kind == "Pod"));
        claim.Metadata.OwnerReferences = owners;
        Assert.Null(StatefulSetClaimRetention.DesiredOwners(set, claim, pod, condemned));
    }
}
