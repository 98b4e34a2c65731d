using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>CEL rules of a CustomResourceDefinition (x-kubernetes-validations): compiled at create, enforced on every write.</summary>
[Collection(ServerCollection.Name)]
public sealed class CustomResourceValidationRuleTests(TestServer server)
{
    private static string GizmoDefinition(string group, string specRules, string replicasRules = "[]", string itemsRules = "[]") => $$$"""
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": {"name": "gizmos.{{{group}}}"},
          "spec": {
            "group": "{{{group}}}",
            "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
            "versions": [{
              "name": "v1", "served": true, "storage": true,
              "subresources": {"status": {}},
              "schema": {"openAPIV3Schema": {
                "type": "object",
                "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('g')", "message": "name must start with g"}],
                "properties": {
                  "spec": {
                    "type": "object",
                    "x-kubernetes-validations": {{{specRules}}},
                    "properties": {
                      "replicas": {"type": "integer", "x-kubernetes-validations": {{{replicasRules}}}},
                      "maxReplicas": {"type": "integer"},
                      "mode": {"type": "string", "maxLength": 20},
                      "ports": {
                        "type": "array", "maxItems": 8, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "required": ["name"], "x-kubernetes-validations": {{{itemsRules}}},
                          "properties": {"name": {"type": "string", "maxLength": 15}, "port": {"type": "integer"} } }
                      }
                    }
                  },
                  "status": {"type": "object", "properties": {"phase": {"type": "string", "maxLength": 20, "x-kubernetes-validations": [{"rule": "self != 'Broken'"}]} } }
                }
              }}
            }]
          }
        }
        """;

    private static string NewGroup() => "c" + Guid.NewGuid().ToString("N")[..10] + ".example.com";

    private async Task EstablishAsync(string group, string definition)
    {
        var (status, created) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition);
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 200; i++)
        {
            var (_, crd) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}");
            if ((crd!["status"]?["conditions"] as JsonArray)?.Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True") == true)
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"gizmos.{group} not Established after {clock.Elapsed}");
    }

    private async Task DeleteAsync(string group)
    {
        await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}");
        for (var i = 0; i < 500; i++)
        {
            var (status, _) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}");
            if (status == HttpStatusCode.NotFound)
            {
                return;
            }

            await Task.Delay(20);
        }
    }

    private static string Gizmo(string group, string name, string spec) =>
        $$"""{"apiVersion": "{{group}}/v1", "kind": "Gizmo", "metadata": {"name": "{{name}}"}, "spec": {{spec}}}""";

    private static void AssertCause(JsonObject? body, string field, string message)
    {
        var causes = body!["details"]!["causes"]!.AsArray();
        Assert.True(causes.Any(c => (string?)c!["field"] == field && (string?)c["message"] == message), body.ToJsonString());
    }

    [Fact]
    public async Task Create_ObjectBreakingRules_RefusedWithFieldPathsAndMessages()
    {
        var group = NewGroup();
        var definition = GizmoDefinition(
            group,
            """[{"rule": "self.replicas <= self.maxReplicas", "messageExpression": "'replicas ' + string(self.replicas) + ' exceeds ' + string(self.maxReplicas)", "fieldPath": ".replicas"}]""",
            """[{"rule": "self % 2 == 1", "message": "must be odd"}]""",
            """[{"rule": "self.port > 1024", "reason": "FieldValueForbidden", "message": "privileged port"}]""");
        await EstablishAsync(group, definition);
        var path = $"/apis/{group}/v1/namespaces/default/gizmos";
        try
        {
            var (status, body) = await server.PostAsync(path, Gizmo(group, "g1", """{"replicas": 4, "maxReplicas": 3, "ports": [{"name": "http", "port": 80}]}"""));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Equal("Invalid", (string?)body!["reason"]);
            AssertCause(body, "spec.replicas", "Invalid value: 4: must be odd");
            // A rule on an object names the object's field through fieldPath, and leaves the (object) value out.
            AssertCause(body, "spec.replicas", "Invalid value: replicas 4 exceeds 3");
            AssertCause(body, "spec.ports[0]", "Forbidden: privileged port");
            Assert.StartsWith($"Gizmo.{group} \"g1\" is invalid: [", (string?)body["message"], StringComparison.Ordinal);

            (status, body) = await server.PostAsync(path, Gizmo(group, "x1", """{"replicas": 1, "maxReplicas": 3}"""));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            Assert.Equal($"Gizmo.{group} \"x1\" is invalid: <nil>: Invalid value: name must start with g", (string?)body!["message"]);

            (status, body) = await server.PostAsync(path, Gizmo(group, "g2", """{"replicas": 3, "maxReplicas": 5, "ports": [{"name": "http", "port": 8080}]}"""));
            Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        }
        finally
        {
            await DeleteAsync(group);
        }
    }

    [Fact]
    public async Task Update_TransitionRule_ComparesWithOldValueOnlyOnUpdate()
    {
        var group = NewGroup();
        var definition = GizmoDefinition(
            group,
            """[{"rule": "self.mode == oldSelf.mode", "message": "mode is immutable"}, {"rule": "!has(oldSelf.replicas) || self.replicas >= oldSelf.replicas", "message": "replicas may not decrease"}]""");
        await EstablishAsync(group, definition);
        var path = $"/apis/{group}/v1/namespaces/default/gizmos";
        try
        {
            // On create there is no old value: transition rules do not run.
            var (status, created) = await server.PostAsync(path, Gizmo(group, "g1", """{"replicas": 3, "mode": "fast"}"""));
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());

            var update = created!.DeepClone().AsObject();
            update["spec"]!["mode"] = "slow";
            update["spec"]!["replicas"] = 2;
            (status, var body) = await server.SendAsync(HttpMethod.Put, $"{path}/g1", update.ToJsonString());
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            AssertCause(body, "spec", "Invalid value: mode is immutable");
            AssertCause(body, "spec", "Invalid value: replicas may not decrease");

            update["spec"]!["mode"] = "fast";
            update["spec"]!["replicas"] = 5;
            (status, body) = await server.SendAsync(HttpMethod.Put, $"{path}/g1", update.ToJsonString());
            Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());

            // The status subresource runs the rules on status too.
            (status, body) = await server.SendAsync(HttpMethod.Patch, $"{path}/g1/status", """{"status": {"phase": "Broken"}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            AssertCause(body, "status.phase", "Invalid value: \"Broken\": failed rule: self != 'Broken'");
        }
        finally
        {
            await DeleteAsync(group);
        }
    }

    [Fact]
    public async Task Update_ListMapItems_CorrelateOldElementsByKey()
    {
        var group = NewGroup();
        var definition = GizmoDefinition(group, "[]", itemsRules: """[{"rule": "self.port == oldSelf.port", "message": "port is immutable"}]""");
        await EstablishAsync(group, definition);
        var path = $"/apis/{group}/v1/namespaces/default/gizmos";
        try
        {
            var (status, created) = await server.PostAsync(path, Gizmo(group, "g1", """{"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}"""));
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
            var update = created!.DeepClone().AsObject();
            update["spec"]!["ports"] = JsonNode.Parse("""[{"name": "c", "port": 9}, {"name": "b", "port": 3}, {"name": "a", "port": 1}]""");
            (status, var body) = await server.SendAsync(HttpMethod.Put, $"{path}/g1", update.ToJsonString());
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            var causes = body!["details"]!["causes"]!.AsArray();
            var only = Assert.Single(causes);
            Assert.Equal("spec.ports[1]", (string?)only!["field"]);
        }
        finally
        {
            await DeleteAsync(group);
        }
    }

    [Fact]
    public async Task Create_DefinitionWithBadRules_RefusedWithCompileAndCostErrors()
    {
        var group = NewGroup();
        var definition = GizmoDefinition(
            group,
            """[{"rule": "self.replicaz > 1"}, {"rule": "self.mode + 1 == 2"}]""",
            itemsRules: """[{"rule": "true", "reason": "Sideways"}]""");
        var (status, body) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var spec = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations";
        AssertCause(body, $"{spec}[0].rule",
            "Invalid value: apiextensions.ValidationRule{Rule:\"self.replicaz > 1\", Message:\"\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: " +
            "compilation failed: ERROR: <input>:1:5: undefined field 'replicaz'\n | self.replicaz > 1\n | ....^");
        AssertCause(body, $"{spec}[1].rule",
            "Invalid value: apiextensions.ValidationRule{Rule:\"self.mode + 1 == 2\", Message:\"\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: " +
            "compilation failed: ERROR: <input>:1:11: found no matching overload for '_+_' applied to '(string, int)'\n | self.mode + 1 == 2\n | ..........^");
        AssertCause(body, "spec.validation.openAPIV3Schema.properties[spec].properties[ports].items.x-kubernetes-validations[0].reason",
            "Unsupported value: \"Sideways\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"");

        // Nested loops over a list without maxItems cost more than a rule may.
        var expensive = $$$"""
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "costly.{{{group}}}"},
             "spec": {"group": "{{{group}}}", "scope": "Cluster", "names": {"plural": "costly", "kind": "Costly"},
              "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "string"} } },
                         "x-kubernetes-validations": [{"rule": "self.xs.all(a, self.xs.all(b, a == b || a != b))"}]} } } } }]} }
            """;
        (status, body) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", expensive);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var causes = body!["details"]!["causes"]!.AsArray();
        Assert.Contains(causes, c => (string?)c!["field"] == "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule"
            && ((string?)c["message"])!.StartsWith("Forbidden: estimated rule cost exceeds budget by factor of more than 100x", StringComparison.Ordinal));
        Assert.Contains(causes, c => (string?)c!["field"] == "spec.validation.openAPIV3Schema"
            && ((string?)c["message"])!.StartsWith("Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget", StringComparison.Ordinal));
    }
    [Fact]
    public async Task Create_NonStructuralSchema_RefusedWithUpstreamCauses()
    {
        var group = NewGroup();
        var definition = $$$"""
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "loose.{{{group}}}"},
             "spec": {"group": "{{{group}}}", "scope": "Cluster", "names": {"plural": "loose", "kind": "Loose"},
              "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "metadata": {"type": "object", "properties": {"labels": {"type": "object"} } },
                "spec": {"type": "object", "properties": {
                  "untyped": {"description": "no type"},
                  "list": {"type": "array"},
                  "port": {"type": "string", "x-kubernetes-int-or-string": true},
                  "both": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}},
                  "keep": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}
                } } } } } }] } }
            """;
        var (status, body) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        const string root = "spec.validation.openAPIV3Schema";
        AssertCause(body, $"{root}.properties[metadata]", "Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified");
        AssertCause(body, $"{root}.properties[spec].properties[untyped].type", "Required value: must not be empty for specified object fields");
        AssertCause(body, $"{root}.properties[spec].properties[list].items", "Required value: must be specified");
        AssertCause(body, $"{root}.properties[spec].properties[port].type", "Invalid value: \"string\": must be empty if x-kubernetes-int-or-string is true");
        AssertCause(body, $"{root}.properties[spec].properties[both].additionalProperties", "Forbidden: additionalProperties and properties are mutual exclusive");
        AssertCause(body, $"{root}.properties[spec].properties[keep].x-kubernetes-preserve-unknown-fields", "Invalid value: false: must be true or undefined");
    }
    [Fact]
    public async Task Create_DefinitionReusingNamesOfItsGroup_NamesNotAccepted()
    {
        var group = NewGroup();
        await EstablishAsync(group, GizmoDefinition(group, "[]"));
        var other = $$$"""
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "doodads.{{{group}}}"},
             "spec": {"group": "{{{group}}}", "scope": "Cluster", "names": {"plural": "doodads", "kind": "Doodad", "shortNames": ["dd", "gizmo"]},
              "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"} } }] } }
            """;
        try
        {
            var (status, created) = await server.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", other);
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
            JsonNode? condition = null;
            for (var i = 0; i < 200 && condition is null; i++)
            {
                var (_, crd) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/doodads.{group}");
                condition = (crd!["status"]?["conditions"] as JsonArray)?.FirstOrDefault(c => (string?)c!["type"] == "NamesAccepted");
                if (condition is null)
                {
                    await Task.Delay(10);
                }
            }

            Assert.NotNull(condition);
            Assert.Equal("False", (string?)condition["status"]);
            Assert.Equal("NameConflict", (string?)condition["reason"]);
            Assert.Equal("\"gizmo\" is already in use", (string?)condition["message"]);
            var (notServed, _) = await server.GetAsync($"/apis/{group}/v1/doodads");
            Assert.Equal(HttpStatusCode.NotFound, notServed);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/doodads.{group}");
            await DeleteAsync(group);
        }
    }
    [Fact]
    public async Task Update_UnchangedValueFailingNewRule_IsRatcheted()
    {
        var group = NewGroup();
        await EstablishAsync(group, GizmoDefinition(group, "[]"));
        var path = $"/apis/{group}/v1/namespaces/default/gizmos";
        try
        {
            var (status, created) = await server.PostAsync(path, Gizmo(group, "g1", """{"replicas": 4}"""));
            Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());

            // The definition gains a rule the stored object breaks.
            var (_, crd) = await server.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}");
            crd!["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["replicas"]!["x-kubernetes-validations"] =
                JsonNode.Parse("""[{"rule": "self % 2 == 1", "message": "must be odd"}]""");
            (status, var updated) = await server.SendAsync(HttpMethod.Put, $"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gizmos.{group}", crd.ToJsonString());
            Assert.True(status == HttpStatusCode.OK, updated?.ToJsonString());
            var enforced = false;
            for (var i = 0; i < 200 && !enforced; i++)
            {
                (status, _) = await server.PostAsync(path + "?dryRun=All", Gizmo(group, "g2", """{"replicas": 2}"""));
                enforced = status == HttpStatusCode.UnprocessableEntity;
                if (!enforced)
                {
                    await Task.Delay(10);
                }
            }

            Assert.True(enforced, "the new rule was not enforced");
            (status, var body) = await server.SendAsync(HttpMethod.Patch, $"{path}/g1", """{"metadata": {"labels": {"touched": "yes"}}}""", "application/merge-patch+json");
            Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
            (status, body) = await server.SendAsync(HttpMethod.Patch, $"{path}/g1", """{"spec": {"replicas": 6}}""", "application/merge-patch+json");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
            AssertCause(body, "spec.replicas", "Invalid value: 6: must be odd");
        }
        finally
        {
            await DeleteAsync(group);
        }
    }
}
