using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>CustomResourceDefinitions served by the in-process API server: the definition's whole life, end to end over HTTPS.</summary>
[Collection(ServerCollection.Name)]
public sealed class CustomResourceTests(TestServer server)
{
    private const string Table = "application/json;as=Table;v=v1;g=meta.k8s.io";

    /// <summary>A namespaced Widget in two versions (v1 stored, v1beta1 served) with status and scale subresources.</summary>
    public static string WidgetDefinition(string group, string scope = "Namespaced") => $$$"""
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": {"name": "widgets.{{{group}}}"},
          "spec": {
            "group": "{{{group}}}",
            "scope": "{{{scope}}}",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"], "categories": ["all", "gadgets"]},
            "versions": [
              {
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
                "selectableFields": [{"jsonPath": ".spec.color"}],
                "additionalPrinterColumns": [
                  {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                  {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                  {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                  {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ],
                "schema": {"openAPIV3Schema": {
                  "type": "object",
                  "properties": {
                    "spec": {
                      "type": "object",
                      "required": ["color"],
                      "properties": {
                        "color": {"type": "string", "enum": ["red", "blue", "green"]},
                        "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                        "name": {"type": "string", "maxLength": 8, "pattern": "^[a-z]+$"},
                        "port": {"x-kubernetes-int-or-string": true},
                        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}
                      }
                    },
                    "status": {
                      "type": "object",
                      "properties": {
                        "replicas": {"type": "integer"},
                        "selector": {"type": "string"},
                        "conditions": {"type": "array", "items": {"type": "object", "properties": {"type": {"type": "string"}, "status": {"type": "string"} } } }
                      }
                    }
                  }
                }}
              },
              {
                "name": "v1beta1", "served": true, "storage": false,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
              }
            ]
          }
        }
        """;

    private static string NewGroup() => "t" + Guid.NewGuid().ToString("N")[..10] + ".example.com";

    private async Task<JsonObject> EstablishAsync(string group, string scope = "Namespaced")
    {
        var (status, created) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WidgetDefinition(group, scope));
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            var (_, crd) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
            if ((crd!["status"]?["conditions"] as JsonArray)?.Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True") == true)
            {
                return crd;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"widgets.{group} not Established after {clock.Elapsed}");
    }

    private async Task DeleteDefinitionAsync(string group)
    {
        await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
        for (var i = 0; i < 500; i++)
        {
            // Gone from storage, and (a moment later, as the definition controller sees it) no longer served.
            var (status, _) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
            if (status == HttpStatusCode.NotFound && (await server.GetAsync($"/apis/{group}/v1")).Status == HttpStatusCode.NotFound)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"widgets.{group} not deleted");
    }

    [Fact]
    public async Task Create_Definition_IsEstablishedWithAcceptedNamesAndStoredVersions()
    {
        var group = NewGroup();
        try
        {
            var crd = await EstablishAsync(group);
            var status = crd["status"]!;
            Assert.Equal("v1", (string?)status["storedVersions"]![0]);
            Assert.Equal("Widget", (string?)status["acceptedNames"]!["kind"]);
            Assert.Equal("WidgetList", (string?)status["acceptedNames"]!["listKind"]);
            var names = (status["conditions"] as JsonArray)!.Select(c => (string?)c!["type"]).ToList();
            Assert.Equal(["NamesAccepted", "Established"], names);
            Assert.Null(crd["metadata"]!["finalizers"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Discovery_FollowsDefinitions_PlainAggregatedAndOpenApi()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group);
            var (status, list) = await server.GetAsync($"/apis/{group}/v1");
            Assert.Equal(HttpStatusCode.OK, status);
            var resources = (list!["resources"] as JsonArray)!.Select(r => (string?)r!["name"]).ToList();
            Assert.Contains("widgets", resources);
            Assert.Contains("widgets/status", resources);
            Assert.Contains("widgets/scale", resources);
            var widgets = (list["resources"] as JsonArray)!.First(r => (string?)r!["name"] == "widgets")!;
            Assert.Equal("wd", (string?)widgets["shortNames"]![0]);
            Assert.Equal("gadgets", (string?)widgets["categories"]![1]);
            Assert.True((bool)widgets["namespaced"]!);

            var (_, groupDoc) = await server.GetAsync($"/apis/{group}");
            Assert.Equal("v1", (string?)groupDoc!["preferredVersion"]!["version"]);
            Assert.Equal(2, (groupDoc["versions"] as JsonArray)!.Count);

            var (_, aggregated) = await server.GetAsync("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
            Assert.Contains((aggregated!["items"] as JsonArray)!, g => (string?)g!["metadata"]!["name"] == group);

            var (_, index) = await server.GetAsync("/openapi/v3");
            var url = (string?)index!["paths"]![$"apis/{group}/v1"]!["serverRelativeURL"];
            Assert.NotNull(url);
            var (openApiStatus, document) = await server.GetAsync(url!);
            Assert.Equal(HttpStatusCode.OK, openApiStatus);
            var schema = document!["components"]!["schemas"]![$"com.example.{group.Split('.')[0]}.v1.Widget"]!;
            Assert.Equal("Widget", (string?)schema["x-kubernetes-group-version-kind"]![0]!["kind"]);
            Assert.NotNull(schema["properties"]!["spec"]!["properties"]!["color"]);
            Assert.NotNull(document["paths"]![$"/apis/{group}/v1/namespaces/{{namespace}}/widgets/{{name}}/scale"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/apis/{group}/v1")).Status);
        // This server publishes no built-in documents: without custom resources the index is gone too.
        var (_, after) = await server.GetAsync("/openapi/v3");
        Assert.Null(after?["paths"]?[$"apis/{group}/v1"]);
    }

    [Fact]
    public async Task Create_CustomObject_DefaultsPrunesAndValidates()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group);
            var path = $"/apis/{group}/v1/namespaces/default/widgets";
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new StringContent(
                    $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"color":"red","unknown":1,"port":"http","extra":{"anything":{"x":1}},"labels":{"a":"b"},"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":1} } },"status":{"replicas":5},"junk":true}""",
                    Encoding.UTF8, "application/json"),
            };
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var created = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(1, (int)created["spec"]!["replicas"]!);
            Assert.Null(created["spec"]!["unknown"]);
            Assert.Null(created["junk"]);
            Assert.Null(created["status"]);
            Assert.Equal(1, (int)created["spec"]!["extra"]!["anything"]!["x"]!);
            Assert.Equal("Pod", (string?)created["spec"]!["template"]!["kind"]);
            Assert.Equal("http", (string?)created["spec"]!["port"]);
            Assert.Equal(1, (int)created["metadata"]!["generation"]!);
            var warnings = string.Join("\n", response.Headers.GetValues("Warning"));
            Assert.Contains("unknown field \\\"spec.unknown\\\"", warnings, StringComparison.Ordinal);

            var (strict, strictBody) = await server.SendAsync(HttpMethod.Post, path + "?fieldValidation=Strict", $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"w2"},"spec":{"color":"red","unknown":1}}""");
            Assert.Equal(HttpStatusCode.BadRequest, strict);
            Assert.Contains("unknown field \"spec.unknown\"", (string?)strictBody!["message"], StringComparison.Ordinal);

            var (invalid, body) = await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"w3"},"spec":{"color":"purple","replicas":11,"name":"TooLongName","tags":["a","a"],"port":true}}""");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
            Assert.Equal("Invalid", (string?)body!["reason"]);
            var causes = (body["details"]!["causes"] as JsonArray)!.Select(c => ((string?)c!["field"], (string?)c["reason"], (string?)c["message"])).ToList();
            Assert.Contains(("spec.color", "FieldValueNotSupported", "Unsupported value: \"purple\": supported values: \"red\", \"blue\", \"green\""), causes);
            Assert.Contains(("spec.replicas", "FieldValueInvalid", "Invalid value: 11: spec.replicas in body should be less than or equal to 10"), causes);
            Assert.Contains(("spec.name", "FieldValueTooLong", "Too long: may not be more than 8 bytes"), causes);
            Assert.Contains(("spec.name", "FieldValueInvalid", "Invalid value: \"TooLongName\": spec.name in body should match '^[a-z]+$'"), causes);
            Assert.Contains(("spec.tags[1]", "FieldValueDuplicate", "Duplicate value: \"a\""), causes);
            Assert.Contains(causes, c => c.Item1 == "spec.port" && c.Item2 == "FieldValueTypeInvalid");
            Assert.StartsWith($"Widget.{group} \"w3\" is invalid: [", (string?)body["message"], StringComparison.Ordinal);

            var (missing, missingBody) = await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"w4"},"spec":{}}""");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, missing);
            Assert.Equal("spec.color", (string?)missingBody!["details"]!["causes"]![0]!["field"]);
            Assert.Equal("FieldValueRequired", (string?)missingBody["details"]!["causes"]![0]!["reason"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Versions_ConversionNone_RewritesApiVersionAndStoresInStorageVersion()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group);
            var (status, created) = await server.PostAsync($"/apis/{group}/v1beta1/namespaces/default/widgets", $$$"""{"apiVersion":"{{{group}}}/v1beta1","kind":"Widget","metadata":{"name":"old"},"spec":{"color":"blue"}}""");
            Assert.Equal(HttpStatusCode.Created, status);
            Assert.Equal($"{group}/v1beta1", (string?)created!["apiVersion"]);
            var (_, asV1) = await server.GetAsync($"/apis/{group}/v1/namespaces/default/widgets/old");
            Assert.Equal($"{group}/v1", (string?)asV1!["apiVersion"]);
            var (_, listV1beta1) = await server.GetAsync($"/apis/{group}/v1beta1/widgets");
            Assert.Equal($"{group}/v1beta1", (string?)listV1beta1!["items"]![0]!["apiVersion"]);
            Assert.Equal("WidgetList", (string?)listV1beta1["kind"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Table_SelectableFields_StatusAndScale_Work()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group);
            var path = $"/apis/{group}/v1/namespaces/default/widgets";
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"a"},"spec":{"color":"red","replicas":2}}""")).Status);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"b"},"spec":{"color":"blue"}}""")).Status);

            var (_, table) = await server.GetAsync(path, Table);
            var columns = (table!["columnDefinitions"] as JsonArray)!.Select(c => (string?)c!["name"]).ToList();
            Assert.Equal(["Name", "Color", "Replicas", "Ready", "Age"], columns);
            var row = (table["rows"] as JsonArray)!.First(r => (string?)r!["cells"]![0] == "a")!;
            Assert.Equal("red", (string?)row["cells"]![1]);
            Assert.Equal(2, (long)row["cells"]![2]!);
            Assert.Null(row["cells"]![3]);

            var (_, selected) = await server.GetAsync(path + "?fieldSelector=spec.color%3Dblue");
            Assert.Equal(["b"], (selected!["items"] as JsonArray)!.Select(i => (string?)i!["metadata"]!["name"]));
            var (badField, _) = await server.GetAsync(path + "?fieldSelector=spec.size%3D1");
            Assert.Equal(HttpStatusCode.BadRequest, badField);

            // The status subresource changes status only; the main resource ignores status.
            var (statusCode, updated) = await server.SendAsync(HttpMethod.Patch, path + "/a/status",
                """{"spec":{"color":"green"},"status":{"replicas":2,"selector":"app=a","conditions":[{"type":"Ready","status":"True"}]}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.OK, statusCode);
            Assert.Equal("red", (string?)updated!["spec"]!["color"]);
            Assert.Equal(2, (int)updated["status"]!["replicas"]!);
            var (_, mainPatched) = await server.SendAsync(HttpMethod.Patch, path + "/a", """{"spec":{"color":"green"},"status":{"replicas":9}}""", "application/merge-patch+json");
            Assert.Equal("green", (string?)mainPatched!["spec"]!["color"]);
            Assert.Equal(2, (int)mainPatched["status"]!["replicas"]!);
            Assert.Equal(2, (int)mainPatched["metadata"]!["generation"]!);

            var (_, readyTable) = await server.GetAsync(path + "/a", Table);
            Assert.Equal("True", (string?)readyTable!["rows"]![0]!["cells"]![3]);

            var (_, scale) = await server.GetAsync(path + "/a/scale");
            Assert.Equal("Scale", (string?)scale!["kind"]);
            Assert.Equal(2, (int)scale["spec"]!["replicas"]!);
            Assert.Equal("app=a", (string?)scale["status"]!["selector"]);
            var (scaled, scaledBody) = await server.SendAsync(HttpMethod.Patch, path + "/a/scale", """{"spec":{"replicas":5}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.OK, scaled);
            Assert.Equal(5, (int)scaledBody!["spec"]!["replicas"]!);
            var (_, afterScale) = await server.GetAsync(path + "/a");
            Assert.Equal(5, (int)afterScale!["spec"]!["replicas"]!);

            var (tooMany, _) = await server.SendAsync(HttpMethod.Patch, path + "/a/scale", """{"spec":{"replicas":50}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMany);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Patch_CustomObject_MergeJsonAndApply_StrategicAnswers415()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group);
            var path = $"/apis/{group}/v1/namespaces/default/widgets";
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"p"},"spec":{"color":"red","tags":["x"]}}""")).Status);

            var (jsonStatus, jsonPatched) = await server.SendAsync(HttpMethod.Patch, path + "/p", """[{"op":"add","path":"/spec/tags/-","value":"y"}]""", "application/json-patch+json");
            Assert.Equal(HttpStatusCode.OK, jsonStatus);
            Assert.Equal(2, (jsonPatched!["spec"]!["tags"] as JsonArray)!.Count);

            var (strategic, strategicBody) = await server.SendAsync(HttpMethod.Patch, path + "/p", """{"spec":{"color":"blue"}}""", "application/strategic-merge-patch+json");
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, strategic);
            Assert.Equal("UnsupportedMediaType", (string?)strategicBody!["reason"]);

            var (invalidPatch, _) = await server.SendAsync(HttpMethod.Patch, path + "/p", """{"spec":{"color":"pink"}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, invalidPatch);

            var apply = $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"applied"},"spec":{"color":"green","tags":["a","b"]}}""";
            var (applied, appliedBody) = await server.SendAsync(HttpMethod.Patch, path + "/applied?fieldManager=test", apply, "application/apply-patch+yaml");
            Assert.Equal(HttpStatusCode.Created, applied);
            Assert.Equal("test", (string?)appliedBody!["metadata"]!["managedFields"]![0]!["manager"]);
            var (reapplied, reappliedBody) = await server.SendAsync(HttpMethod.Patch, path + "/applied?fieldManager=test", apply.Replace("green", "blue", StringComparison.Ordinal), "application/apply-patch+yaml");
            Assert.Equal(HttpStatusCode.OK, reapplied);
            Assert.Equal("blue", (string?)reappliedBody!["spec"]!["color"]);
            var (conflict, _) = await server.SendAsync(HttpMethod.Patch, path + "/applied?fieldManager=other", apply.Replace("green", "red", StringComparison.Ordinal), "application/apply-patch+yaml");
            Assert.Equal(HttpStatusCode.Conflict, conflict);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Watch_CustomObjects_SeesChanges()
    {
        var group = NewGroup();
        try
        {
            await EstablishAsync(group);
            var path = $"/apis/{group}/v1/namespaces/default/widgets";
            using var request = new HttpRequestMessage(HttpMethod.Get, path + "?watch=true&timeoutSeconds=10");
            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"watched"},"spec":{"color":"red"}}""")).Status);
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var change = JsonNode.Parse(line!)!;
            Assert.Equal("ADDED", (string?)change["type"]);
            Assert.Equal("watched", (string?)change["object"]!["metadata"]!["name"]);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }

    [Fact]
    public async Task Delete_Definition_EndsWatchesOfItsObjects()
    {
        var group = NewGroup();
        await EstablishAsync(group);
        var path = $"/apis/{group}/v1/namespaces/default/widgets";
        using var request = new HttpRequestMessage(HttpMethod.Get, path + "?watch=true&timeoutSeconds=120");
        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"color":"red"}}""")).Status);
        Assert.Equal("ADDED", (string?)JsonNode.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!)!["type"]);

        await DeleteDefinitionAsync(group);

        // The cleanup deletes the object (one DELETED event), then the stream ends long before its timeout.
        var lines = new List<string>();
        var clock = Stopwatch.StartNew();
        while (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) is { } line)
        {
            lines.Add(line);
            Assert.True(lines.Count < 10, string.Join("\n", lines));
        }

        Assert.Equal(["DELETED"], lines.Select(l => (string?)JsonNode.Parse(l)!["type"]));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Delete_Definition_DeletesItsObjectsAndStopsServing()
    {
        var group = NewGroup();
        await EstablishAsync(group, scope: "Cluster");
        var path = $"/apis/{group}/v1/widgets";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"c1"},"spec":{"color":"red"}}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"c2"},"spec":{"color":"red"}}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await server.PostAsync($"/apis/{group}/v1/namespaces/default/widgets", "{}")).Status);

        var (deleteStatus, deleting) = await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}");
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Assert.Contains("customresourcecleanup.apiextensions.k8s.io", (deleting!["metadata"]!["finalizers"] as JsonArray)!.Select(f => (string?)f));
        await DeleteDefinitionAsync(group);
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync(path)).Status);

        // A definition of the same name again starts empty.
        await EstablishAsync(group, scope: "Cluster");
        var (_, list) = await server.GetAsync(path);
        Assert.Empty((list!["items"] as JsonArray)!);
        await DeleteDefinitionAsync(group);
    }

    [Fact]
    public async Task Create_InvalidDefinition_Answers422WithFieldPaths()
    {
        var group = NewGroup();
        var body = WidgetDefinition(group).Replace($"\"name\": \"widgets.{group}\"", "\"name\": \"wrong.example.com\"", StringComparison.Ordinal)
            .Replace("\"scope\": \"Namespaced\"", "\"scope\": \"Everywhere\"", StringComparison.Ordinal);
        var (status, response) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var fields = (response!["details"]!["causes"] as JsonArray)!.Select(c => (string?)c!["field"]).ToList();
        Assert.Contains("metadata.name", fields);
        Assert.Contains("spec.scope", fields);
    }

    [Fact]
    public async Task Namespace_Deletion_DeletesCustomObjects()
    {
        var group = NewGroup();
        var ns = "crns-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            await EstablishAsync(group);
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
            var path = $"/apis/{group}/v1/namespaces/{ns}/widgets";
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync(path, $$$"""{"apiVersion":"{{{group}}}/v1","kind":"Widget","metadata":{"name":"n1"},"spec":{"color":"red"}}""")).Status);
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");
            for (var i = 0; i < 300 && (await server.GetAsync($"/api/v1/namespaces/{ns}")).Status != HttpStatusCode.NotFound; i++)
            {
                await Task.Delay(50);
            }

            Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"/api/v1/namespaces/{ns}")).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync(path + "/n1")).Status);
        }
        finally
        {
            await DeleteDefinitionAsync(group);
        }
    }
}
