using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Patching;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Tests.Patching;

public sealed class StrategicMergePatchTests
{
    private static string Apply(string original, string patch, TypeSchema? schema = null) =>
        StrategicMergePatch.Apply(JsonNode.Parse(original), JsonNode.Parse(patch), schema ?? TestSchemas.Pod).ToJsonString();

    [Fact]
    public void Apply_ContainerByName_MergesFieldsAndKeepsOthers()
    {
        var result = Apply(
            """{"spec":{"containers":[{"name":"a","image":"a:1","imagePullPolicy":"Always"},{"name":"b","image":"b:1"}]}}""",
            """{"spec":{"containers":[{"name":"a","image":"a:2"}]}}""");

        Assert.Equal("""{"spec":{"containers":[{"name":"a","image":"a:2","imagePullPolicy":"Always"},{"name":"b","image":"b:1"}]}}""", result);
    }

    [Fact]
    public void Apply_NewContainerWithoutOrder_GoesBeforeServerItems()
    {
        var result = Apply(
            """{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}""",
            """{"spec":{"containers":[{"name":"c","image":"c"}]}}""");

        Assert.Equal("""{"spec":{"containers":[{"name":"c","image":"c"},{"name":"a"},{"name":"b"}]}}""", result);
    }

    [Fact]
    public void Apply_SetElementOrder_OrdersMergedList()
    {
        var result = Apply(
            """{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}""",
            """{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"c"},{"name":"a"}],"containers":[{"name":"c","image":"c"}]}}""");

        Assert.Equal("""{"spec":{"containers":[{"name":"b"},{"name":"c","image":"c"},{"name":"a"}]}}""", result);
    }

    [Fact]
    public void Apply_DeleteDirectiveInList_RemovesElement()
    {
        var result = Apply(
            """{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}""",
            """{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}""");

        Assert.Equal("""{"spec":{"containers":[{"name":"b"}]}}""", result);
    }

    [Fact]
    public void Apply_ReplaceDirectiveInList_ReplacesWholeList()
    {
        var result = Apply(
            """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b"}]}}""",
            """{"spec":{"containers":[{"name":"c"},{"$patch":"replace"}]}}""");

        Assert.Equal("""{"spec":{"containers":[{"name":"c"}]}}""", result);
    }

    [Fact]
    public void Apply_ReplaceDirectiveOnMap_ReplacesMap()
    {
        var result = Apply(
            """{"metadata":{"labels":{"a":"1","b":"2"}}}""",
            """{"metadata":{"labels":{"c":"3","$patch":"replace"}}}""");

        Assert.Equal("""{"metadata":{"labels":{"c":"3"}}}""", result);
    }

    [Fact]
    public void Apply_DeleteDirectiveOnMap_EmptiesMap()
    {
        Assert.Equal("""{"metadata":{"labels":{}}}""", Apply("""{"metadata":{"labels":{"a":"1"}}}""", """{"metadata":{"labels":{"$patch":"delete"}}}"""));
    }

    [Fact]
    public void Apply_PrimitiveMergeList_UnionAndDeleteFromPrimitiveList()
    {
        var union = Apply("""{"metadata":{"finalizers":["a","b"]}}""", """{"metadata":{"finalizers":["c","a"]}}""");
        Assert.Equal("""{"metadata":{"finalizers":["c","a","b"]}}""", union);

        var deleted = Apply(
            """{"metadata":{"finalizers":["a","b","c"]}}""",
            """{"metadata":{"$setElementOrder/finalizers":["c"],"$deleteFromPrimitiveList/finalizers":["a"]}}""");
        Assert.Equal("""{"metadata":{"finalizers":["b","c"]}}""", deleted);
    }

    [Fact]
    public void Apply_AtomicList_Replaced()
    {
        var result = Apply(
            """{"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}}""",
            """{"spec":{"tolerations":[{"key":"c"}]}}""");

        Assert.Equal("""{"spec":{"tolerations":[{"key":"c"}]}}""", result);
    }

    [Fact]
    public void Apply_NullDeletesAndMapsMerge()
    {
        var result = Apply(
            """{"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"nodeName":"n"}}""",
            """{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"nodeName":null,"missing":null}}""");

        Assert.Equal("""{"metadata":{"labels":{"b":"2","c":"3"}},"spec":{}}""", result);
    }

    [Fact]
    public void Apply_RetainKeysOnVolume_DropsOtherSource()
    {
        var result = Apply(
            """{"spec":{"volumes":[{"name":"v","emptyDir":{}},{"name":"w","hostPath":{"path":"/x"}}]}}""",
            """{"spec":{"$setElementOrder/volumes":[{"name":"v"},{"name":"w"}],"volumes":[{"$retainKeys":["configMap","name"],"configMap":{"name":"c"},"name":"v"}]}}""");

        Assert.Equal("""{"spec":{"volumes":[{"name":"v","configMap":{"name":"c"}},{"name":"w","hostPath":{"path":"/x"}}]}}""", result);
    }

    [Fact]
    public void Apply_RetainKeysOnStrategy_DropsRollingUpdate()
    {
        var result = Apply(
            """{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}}}}""",
            """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}""",
            TestSchemas.Deployment);

        Assert.Equal("""{"spec":{"strategy":{"type":"Recreate"}}}""", result);
    }

    [Fact]
    public void Apply_RetainKeysMissingPatchedKey_BadRequest()
    {
        var error = Assert.Throws<StatusException>(() => Apply("""{"spec":{"strategy":{}}}""", """{"spec":{"strategy":{"$retainKeys":["type"],"other":1}}}""", TestSchemas.Deployment));

        Assert.Equal("invalid patch format of retainKeys", error.Message);
    }

    [Fact]
    public void Apply_UnknownFields_FallBackToMergePatch()
    {
        var result = Apply(
            """{"spec":{"custom":{"a":1,"list":[1,2]}}}""",
            """{"spec":{"custom":{"b":2,"list":[3]}}}""");

        Assert.Equal("""{"spec":{"custom":{"a":1,"list":[3],"b":2}}}""", result);
    }

    [Fact]
    public void Apply_NoSchema_ListsReplaced()
    {
        var result = StrategicMergePatch.Apply(JsonNode.Parse("""{"spec":{"containers":[{"name":"a"}]}}"""), JsonNode.Parse("""{"spec":{"containers":[{"name":"b"}]}}"""), null);

        Assert.Equal("""{"spec":{"containers":[{"name":"b"}]}}""", result.ToJsonString());
    }

    [Fact]
    public void Apply_ElementWithoutMergeKey_BadRequest()
    {
        var error = Assert.Throws<StatusException>(() => Apply("""{"spec":{"containers":[{"name":"a"}]}}""", """{"spec":{"containers":[{"image":"x"}]}}"""));

        Assert.Equal(400, error.Code);
        Assert.Equal("map: {\"image\":\"x\"} does not contain declared merge key: name", error.Message);
    }

    [Fact]
    public void Apply_UnknownDirective_BadRequest()
    {
        Assert.Equal(400, Assert.Throws<StatusException>(() => Apply("{}", """{"metadata":{"$patch":"explode"}}""")).Code);
    }

    [Fact]
    public void Apply_NewListWithDirectives_DirectivesStripped()
    {
        var result = Apply("""{"spec":{}}""", """{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80}],"$setElementOrder/ports":[{"containerPort":80}]}]}}""");

        Assert.Equal("""{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80}]}]}}""", result);
    }

    [Fact]
    public void Apply_KubectlThreeWayPatch_UpdatesImageAndPorts()
    {
        var live = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"old"},"labels":{"app":"web","team":"x"}},
             "spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
               {"name":"nginx","image":"nginx:1.24","imagePullPolicy":"IfNotPresent","ports":[{"containerPort":80,"protocol":"TCP"}],
                "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
               {"name":"sidecar","image":"busybox"}]}}}}
            """;
        var patch = """
            {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"new"},"labels":{"team":null}},
             "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"},{"name":"sidecar"}],
               "containers":[{"$setElementOrder/ports":[{"containerPort":8080}],"$setElementOrder/env":[{"name":"B"}],"image":"nginx:1.25","name":"nginx",
                 "ports":[{"containerPort":8080},{"$patch":"delete","containerPort":80}],
                 "env":[{"$patch":"delete","name":"A"}]}]}}}}
            """;

        var result = StrategicMergePatch.Apply(JsonNode.Parse(live), JsonNode.Parse(patch), TestSchemas.Deployment);

        Assert.Equal("new", (string?)result["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"]);
        Assert.Equal("""{"app":"web"}""", result["metadata"]!["labels"]!.ToJsonString());
        var containers = result["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(2, containers.Count);
        Assert.Equal(
            """{"name":"nginx","image":"nginx:1.25","imagePullPolicy":"IfNotPresent","ports":[{"containerPort":8080}],"env":[{"name":"B","value":"2"}]}""",
            containers[0]!.ToJsonString());
        Assert.Equal("sidecar", (string?)containers[1]!["name"]);
        Assert.Equal(2, (int?)result["spec"]!["replicas"]);
    }

    [Fact]
    public void Apply_DoesNotChangeInputs()
    {
        var original = JsonNode.Parse("""{"spec":{"containers":[{"name":"a"}]}}""");
        var patch = JsonNode.Parse("""{"spec":{"containers":[{"name":"a","image":"x"}]}}""");

        StrategicMergePatch.Apply(original, patch, TestSchemas.Pod);

        Assert.Equal("""{"spec":{"containers":[{"name":"a"}]}}""", original!.ToJsonString());
        Assert.Equal("""{"spec":{"containers":[{"name":"a","image":"x"}]}}""", patch!.ToJsonString());
    }
}
