using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.ManagedFields;

namespace Kubesharp.ApiMachinery.Tests.ManagedFields;

public sealed class FieldSetTests
{
    private static readonly PathElement Spec = PathElement.Field("spec");

    [Fact]
    public void FieldsV1_RoundTrip_KeepsMembersAndChildren()
    {
        var json = """{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}},"f:replicas":{}}}""";

        var set = FieldSet.FromFieldsV1(JsonNode.Parse(json));

        Assert.True(set.Has([PathElement.Field("metadata"), PathElement.Field("labels")]));
        Assert.False(set.Has([PathElement.Field("metadata")]));
        Assert.True(set.Has([Spec, PathElement.Field("replicas")]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), set.ToFieldsV1()));
    }

    [Fact]
    public void PathText_KeyValueIndex_PrintedLikeUpstream()
    {
        var path = new[]
        {
            Spec, PathElement.Field("containers"),
            PathElement.Key([KeyValuePair.Create<string, JsonNode?>("name", "nginx")]),
            PathElement.Field("ports"),
            PathElement.Key([KeyValuePair.Create<string, JsonNode?>("protocol", "TCP"), KeyValuePair.Create<string, JsonNode?>("containerPort", 80)]),
        };

        Assert.Equal(".spec.containers[name=\"nginx\"].ports[containerPort=80,protocol=\"TCP\"]", FieldSet.PathText(path));
        Assert.Equal("[=\"a\"]", PathElement.Value("a").ToString());
        Assert.Equal("[3]", PathElement.Index(3).ToString());
        Assert.Equal("k:{\"containerPort\":80,\"protocol\":\"TCP\"}", path[^1].Encoded);
    }

    [Fact]
    public void SetOperations_UnionDifferenceIntersection()
    {
        var a = FieldSet.Of([Spec, PathElement.Field("replicas")], [Spec, PathElement.Field("paused")]);
        var b = FieldSet.Of([Spec, PathElement.Field("replicas")], [PathElement.Field("status")]);

        Assert.Equal(3, a.Union(b).Paths().Count());
        Assert.Equal(".spec.paused", FieldSet.PathText(Assert.Single(a.Difference(b).Paths())));
        Assert.Equal(".spec.replicas", FieldSet.PathText(Assert.Single(a.Intersection(b).Paths())));
    }

    [Fact]
    public void RecursiveDifference_MemberRemovesSubtree()
    {
        var set = FieldSet.Of([PathElement.Field("status"), PathElement.Field("phase")], [Spec, PathElement.Field("replicas")]);

        var result = set.RecursiveDifference(FieldSet.Of([PathElement.Field("status")]));

        Assert.Equal(".spec.replicas", FieldSet.PathText(Assert.Single(result.Paths())));
        Assert.Equal(2, set.Difference(FieldSet.Of([PathElement.Field("status")])).Paths().Count());
    }

    [Theory]
    [InlineData("""{"x:a":{}}""")]
    [InlineData("""{"f:a":1}""")]
    [InlineData("""{"k:[1]":{}}""")]
    [InlineData("[]")]
    public void FromFieldsV1_Malformed_BadRequest(string json)
    {
        Assert.Equal(400, Assert.Throws<StatusException>(() => FieldSet.FromFieldsV1(JsonNode.Parse(json))).Code);
    }
}
