using Kubesharp.ControllerManager.Deployments;

namespace Kubesharp.ControllerManager.Tests.Deployments;

public sealed class PodTemplateHashTests
{
    [Fact]
    public void Compute_SameTemplate_SameValue()
    {
        Assert.Equal(PodTemplateHash.Compute(Objects.Template("web", "nginx:1"), null), PodTemplateHash.Compute(Objects.Template("web", "nginx:1"), null));
    }

    [Fact]
    public void Compute_DifferentImage_DifferentValue()
    {
        Assert.NotEqual(PodTemplateHash.Compute(Objects.Template("web", "nginx:1"), null), PodTemplateHash.Compute(Objects.Template("web", "nginx:2"), null));
    }

    [Fact]
    public void Compute_CollisionCount_ChangesValue()
    {
        var template = Objects.Template("web", "nginx:1");

        Assert.NotEqual(PodTemplateHash.Compute(template, null), PodTemplateHash.Compute(template, 1));
        Assert.NotEqual(PodTemplateHash.Compute(template, 1), PodTemplateHash.Compute(template, 2));
    }

    [Fact]
    public void Compute_LabelOrder_DoesNotMatter()
    {
        var a = Objects.Template("web", "nginx:1");
        a.Metadata!.Labels = new() { ["x"] = "1", ["y"] = "2" };
        var b = Objects.Template("web", "nginx:1");
        b.Metadata!.Labels = new() { ["y"] = "2", ["x"] = "1" };

        Assert.Equal(PodTemplateHash.Compute(a, null), PodTemplateHash.Compute(b, null));
    }

    [Fact]
    public void Compute_Value_UsesOnlyTheSafeAlphabet()
    {
        var value = PodTemplateHash.Compute(Objects.Template("web", "nginx:1"), null);

        Assert.InRange(value.Length, 1, 10);
        Assert.All(value, c => Assert.Contains(c, "bcdfghjklmnpqrstvwxz2456789"));
    }

    [Fact]
    public void SafeEncode_Digits_MapThroughAlphabetByCharacterCode()
    {
        // '0' is 48 and 48 % 27 = 21 → '4'; '9' is 57 and 57 % 27 = 3 → 'f'.
        Assert.Equal("4f", PodTemplateHash.SafeEncode("09"));
    }
}
