using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Patching;

namespace Kubesharp.ApiMachinery.Tests.Patching;

public sealed class JsonPatchTests
{
    private static JsonNode? Apply(string doc, string patch) => JsonPatch.Apply(JsonNode.Parse(doc), JsonNode.Parse(patch));

    [Fact]
    public void Apply_AddReplaceRemove_ChangesDocument()
    {
        var result = Apply("""{"spec":{"replicas":1,"containers":[{"name":"a"}]},"metadata":{"labels":{"x":"1"}}}""", """
            [{"op":"replace","path":"/spec/replicas","value":3},
             {"op":"add","path":"/metadata/labels/app~1name","value":"web"},
             {"op":"remove","path":"/metadata/labels/x"},
             {"op":"add","path":"/spec/containers/-","value":{"name":"c"}},
             {"op":"add","path":"/spec/containers/1","value":{"name":"b"}}]
            """);

        Assert.Equal("""{"spec":{"replicas":3,"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]},"metadata":{"labels":{"app/name":"web"}}}""", result!.ToJsonString());
    }

    [Fact]
    public void Apply_MoveCopyTest_Work()
    {
        var result = Apply("""{"a":{"b":1},"c":[1,2]}""", """
            [{"op":"test","path":"/a/b","value":1.0},
             {"op":"copy","from":"/a","path":"/d"},
             {"op":"move","from":"/c/0","path":"/e"}]
            """);

        Assert.Equal("""{"a":{"b":1},"c":[2],"d":{"b":1},"e":1}""", result!.ToJsonString());
    }

    [Fact]
    public void Apply_DoesNotChangeInput()
    {
        var doc = JsonNode.Parse("""{"a":1}""");

        JsonPatch.Apply(doc, JsonNode.Parse("""[{"op":"replace","path":"/a","value":2}]"""));

        Assert.Equal("""{"a":1}""", doc!.ToJsonString());
    }

    [Fact]
    public void Apply_ReplaceRoot_ReplacesDocument()
    {
        Assert.Equal("[1]", Apply("""{"a":1}""", """[{"op":"replace","path":"","value":[1]}]""")!.ToJsonString());
    }

    [Fact]
    public void Apply_FailedTest_Unprocessable()
    {
        var error = Assert.Throws<StatusException>(() => Apply("""{"a":1}""", """[{"op":"test","path":"/a","value":2}]"""));

        Assert.Equal(422, error.Code);
        Assert.Equal("Invalid", error.Reason);
        Assert.Equal("testing value /a failed: test failed", error.Message);
    }

    [Fact]
    public void Apply_MissingPath_Unprocessable()
    {
        var remove = Assert.Throws<StatusException>(() => Apply("""{"a":1}""", """[{"op":"remove","path":"/b"}]"""));
        Assert.Equal("remove operation does not apply: doc is missing path: \"/b\": missing value", remove.Message);

        var add = Assert.Throws<StatusException>(() => Apply("""{"a":1}""", """[{"op":"add","path":"/x/y","value":1}]"""));
        Assert.Equal(422, add.Code);

        var index = Assert.Throws<StatusException>(() => Apply("""{"a":[1]}""", """[{"op":"replace","path":"/a/5","value":1}]"""));
        Assert.Equal("Unable to access invalid index: 5: invalid index referenced", index.Message);
    }

    [Fact]
    public void Apply_ReplaceAbsentMemberOfObject_AddsIt()
    {
        var node = Apply("""{"spec":{"taints":[]}}""", """[{"op":"replace","path":"/spec/unschedulable","value":true}]""");
        Assert.Equal("""{"spec":{"taints":[],"unschedulable":true}}""", node!.ToJsonString());

        var parent = Assert.Throws<StatusException>(() => Apply("""{"spec":{}}""", """[{"op":"replace","path":"/spec/template/metadata/annotations","value":{}}]"""));
        Assert.Equal(422, parent.Code);
    }

    [Fact]
    public void Apply_MalformedPatch_BadRequest()
    {
        Assert.Equal(400, Assert.Throws<StatusException>(() => Apply("{}", """{"op":"add"}""")).Code);
        Assert.Equal(400, Assert.Throws<StatusException>(() => Apply("{}", """[{"op":"jump","path":"/a"}]""")).Code);
        Assert.Equal(400, Assert.Throws<StatusException>(() => Apply("{}", """[{"op":"add","path":"/a"}]""")).Code);
    }

    [Fact]
    public void Apply_TooManyOperations_RequestEntityTooLarge()
    {
        var ops = new JsonArray(Enumerable.Range(0, JsonPatch.MaxOperations + 1).Select(_ => (JsonNode)new JsonObject { ["op"] = "test", ["path"] = "" }).ToArray());

        var error = Assert.Throws<StatusException>(() => JsonPatch.Apply(new JsonObject(), ops));

        Assert.Equal(413, error.Code);
    }

    [Fact]
    public void Apply_MoveIntoOwnChild_Unprocessable()
    {
        Assert.Equal(422, Assert.Throws<StatusException>(() => Apply("""{"a":{"b":{}}}""", """[{"op":"move","from":"/a","path":"/a/b/c"}]""")).Code);
    }
}
