using Kubesharp.Api.Apps.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.ControllerRevisions;

namespace Kubesharp.ControllerManager.Tests.ControllerRevisions;

public sealed class ControllerRevisionHistoryTests
{
    private static ControllerRevision Revision(string name, long number) => new()
    {
        Metadata = new ObjectMeta { Name = name, CreationTimestamp = Objects.Epoch },
        Revision = number,
    };

    [Fact]
    public void TemplatePatch_RoundTrips_AndReplacesTheTemplateWhenApplied()
    {
        var template = Objects.Template("web", "nginx:2");
        var data = ControllerRevisionHistory.TemplatePatch(template);

        Assert.Equal("replace", (string?)data["spec"]!["template"]!["$patch"]);
        var restored = ControllerRevisionHistory.Template(new ControllerRevision { Data = data });
        Assert.Equal("nginx:2", restored!.Spec!.Containers![0].Image);
        Assert.Equal("web", restored.Metadata!.Labels!["app"]);
    }

    [Fact]
    public void Hash_CollisionCount_ChangesTheName()
    {
        var data = ControllerRevisionHistory.TemplatePatch(Objects.Template("web", "nginx:2"));

        var plain = ControllerRevisionHistory.Hash(data, null);

        Assert.Equal(plain, ControllerRevisionHistory.Hash(data.DeepClone(), null));
        Assert.NotEqual(plain, ControllerRevisionHistory.Hash(data, 1));
        Assert.NotEqual(plain, ControllerRevisionHistory.Hash(ControllerRevisionHistory.TemplatePatch(Objects.Template("web", "nginx:3")), null));
        Assert.DoesNotContain(plain, c => "aeiou".Contains(c, StringComparison.Ordinal));
    }

    [Fact]
    public void New_CarriesTemplateLabelsHashAndControllerReference()
    {
        var owner = new ObjectMeta { Name = "web", Namespace = "default", Uid = "uid-web", Annotations = new() { ["kubernetes.io/change-cause"] = "v2" } };
        var template = Objects.Template("web", "nginx:2");

        var revision = ControllerRevisionHistory.New(owner, "apps/v1", "StatefulSet", template, ControllerRevisionHistory.TemplatePatch(template), "abc", 3);

        Assert.Equal("web-abc", revision.Metadata!.Name);
        Assert.Equal("abc", revision.Metadata.Labels!["controller-revision-hash"]);
        Assert.Equal("web", revision.Metadata.Labels["app"]);
        Assert.Equal("v2", revision.Metadata.Annotations!["kubernetes.io/change-cause"]);
        Assert.True(revision.Metadata.OwnerReferences![0].Controller);
        Assert.Equal(3, revision.Revision);
    }

    [Fact]
    public void Excess_KeepsTheLimitAndWhatIsInUse()
    {
        var revisions = Enumerable.Range(1, 6).Select(i => Revision("r" + i, i)).ToList();

        var excess = ControllerRevisionHistory.Excess(revisions, new HashSet<string> { "r1", "r6" }, 2);

        Assert.Equal(["r2", "r3"], excess.Select(r => r.Metadata!.Name));
        Assert.Equal(7, ControllerRevisionHistory.NextRevision(revisions));
    }
}
