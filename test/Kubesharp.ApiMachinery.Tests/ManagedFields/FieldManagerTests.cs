using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.ManagedFields;

namespace Kubesharp.ApiMachinery.Tests.ManagedFields;

public sealed class FieldManagerTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private readonly FieldManager _deployments;

    public FieldManagerTests() => _deployments = new FieldManager(TestSchemas.Deployment, _time);

    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private const string Config = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
         "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
           "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
             {"name":"nginx","image":"nginx:1.25","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}}}}
        """;

    private static JsonArray Entries(JsonObject obj) => obj["metadata"]!["managedFields"]!.AsArray();

    [Fact]
    public void Apply_Create_RecordsApplyEntryWithUpstreamFieldSet()
    {
        var result = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", force: false);

        var entry = Assert.Single(Entries(result))!;
        Assert.Equal("kubectl", (string?)entry["manager"]);
        Assert.Equal("Apply", (string?)entry["operation"]);
        Assert.Equal("apps/v1", (string?)entry["apiVersion"]);
        Assert.Equal("2026-01-02T03:04:05Z", (string?)entry["time"]);
        Assert.Equal("FieldsV1", (string?)entry["fieldsType"]);
        var expected = """
            {"f:metadata":{"f:labels":{"f:app":{}}},
             "f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{
               "k:{\"name\":\"nginx\"}":{".":{},"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{},
                 "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}
            """;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), entry["fieldsV1"]), entry["fieldsV1"]!.ToJsonString());
        Assert.Equal(3, (int?)result["spec"]!["replicas"]);
    }

    [Fact]
    public void Apply_SameConfigTwice_NoChangeToObject()
    {
        var first = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", false);
        var second = _deployments.Apply(first, Obj(Config), "kubectl", "apps/v1", false);

        Assert.True(JsonNode.DeepEquals(first, second));
    }

    [Fact]
    public void Apply_FieldNoLongerApplied_IsRemoved()
    {
        var first = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", false);
        var smaller = Obj(Config);
        smaller["metadata"]!.AsObject().Remove("labels");
        smaller["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject().Remove("env");

        var result = _deployments.Apply(first, smaller, "kubectl", "apps/v1", false);

        Assert.Null(result["metadata"]!["labels"]);
        Assert.Null(result["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]);
        Assert.Equal("nginx:1.25", (string?)result["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
    }

    [Fact]
    public void Apply_FieldStillOwnedByOtherManager_IsKept()
    {
        var applied = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", false);
        var edited = (JsonObject)applied.DeepClone();
        edited["metadata"]!["labels"]!["team"] = "x";
        edited["metadata"]!["labels"]!["app"] = "web";
        var updated = _deployments.Update(applied, edited, "kubectl-edit", "apps/v1");
        var withoutLabels = Obj(Config);
        withoutLabels["metadata"]!.AsObject().Remove("labels");

        var result = _deployments.Apply(updated, withoutLabels, "kubectl", "apps/v1", false);

        Assert.Equal("""{"team":"x"}""", result["metadata"]!["labels"]!.ToJsonString());
    }

    [Fact]
    public void Apply_ValueOwnedByUpdater_ConflictsWithUpstreamMessage()
    {
        var created = _deployments.Update(null, Obj(Config.Replace("\"replicas\":3", "\"replicas\":2", StringComparison.Ordinal)), "kubectl-client-side-apply", "apps/v1");

        var error = Assert.Throws<StatusException>(() => _deployments.Apply(created, Obj(Config), "kubectl", "apps/v1", false));

        Assert.Equal(409, error.Code);
        Assert.Equal("Conflict", error.Reason);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas", error.Message);
        var cause = Assert.Single(error.Details!.Causes);
        Assert.Equal(new StatusCause("FieldManagerConflict", "conflict with \"kubectl-client-side-apply\" using apps/v1", ".spec.replicas"), cause);
    }

    [Fact]
    public void Apply_SameValueAsOtherOwner_SharesOwnership()
    {
        var created = _deployments.Update(null, Obj(Config), "kubectl-create", "apps/v1");

        var result = _deployments.Apply(created, Obj(Config), "kubectl", "apps/v1", false);

        var entries = ManagedFieldsEntry.Read(result);
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.True(e.Fields.Has([PathElement.Field("spec"), PathElement.Field("replicas")])));
        Assert.Equal("Apply", entries[0].Operation);
    }

    [Fact]
    public void Apply_Force_TakesOwnershipFromOthers()
    {
        var created = _deployments.Update(null, Obj(Config.Replace("\"replicas\":3", "\"replicas\":2", StringComparison.Ordinal)), "kubectl-client-side-apply", "apps/v1");

        var result = _deployments.Apply(created, Obj(Config), "kubectl", "apps/v1", force: true);

        Assert.Equal(3, (int?)result["spec"]!["replicas"]);
        var entries = ManagedFieldsEntry.Read(result);
        var updater = entries.Single(e => e.Manager == "kubectl-client-side-apply");
        Assert.False(updater.Fields.Has([PathElement.Field("spec"), PathElement.Field("replicas")]));
        Assert.True(entries.Single(e => e.Manager == "kubectl").Fields.Has([PathElement.Field("spec"), PathElement.Field("replicas")]));
    }

    [Fact]
    public void Apply_SeveralConflicts_GroupedMessage()
    {
        var other = Obj(Config.Replace("\"replicas\":3", "\"replicas\":2", StringComparison.Ordinal).Replace("nginx:1.25", "nginx:1.24", StringComparison.Ordinal));
        var live = _deployments.Apply(null, other, "helm", "apps/v1", false);

        var error = Assert.Throws<StatusException>(() => _deployments.Apply(live, Obj(Config), "kubectl", "apps/v1", false));

        Assert.Equal(
            "Apply failed with 2 conflicts: conflicts with \"helm\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image",
            error.Message);
        Assert.Equal(2, error.Details!.Causes.Count);
    }

    [Fact]
    public void Apply_ListMapMerge_KeepsLiveOnlyItems()
    {
        var live = Obj("""
            {"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a"},{"name":"injected","image":"i"},{"name":"c","image":"c"}]}}}}
            """);
        var config = Obj("""{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"c2"},{"name":"a","image":"a"}]}}}}""");

        var result = _deployments.Apply(live, config, "kubectl", "apps/v1", force: true);

        var names = result["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => (string?)c!["name"]).ToList();
        Assert.Equal(["injected", "c", "a"], names);
        Assert.Equal("c2", (string?)result["spec"]!["template"]!["spec"]!["containers"]![1]!["image"]);
    }

    [Fact]
    public void Apply_PortWithoutProtocol_MatchesDefaultedLivePort()
    {
        var live = Obj("""{"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP","name":"http"}]}]}}}}""");
        var config = Obj("""{"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80}]}]}}}}""");

        var result = _deployments.Apply(live, config, "kubectl", "apps/v1", false);

        Assert.Equal("""[{"containerPort":80,"protocol":"TCP","name":"http"}]""", result["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]!.ToJsonString());
    }

    [Fact]
    public void Apply_AtomicSelector_ReplacedWhole()
    {
        var live = Obj("""{"spec":{"selector":{"matchLabels":{"app":"web","old":"x"}}}}""");

        var result = _deployments.Apply(live, Obj("""{"spec":{"selector":{"matchLabels":{"app":"web"}}}}"""), "kubectl", "apps/v1", force: true);

        Assert.Equal("""{"matchLabels":{"app":"web"}}""", result["spec"]!["selector"]!.ToJsonString());
    }

    [Fact]
    public void Apply_IgnoredStatus_NotOwnedAndNoConflict()
    {
        var live = _deployments.Update(null, Obj("""{"status":{"replicas":1}}"""), "kube-controller-manager", "apps/v1", "status");

        var result = _deployments.Apply(live, Obj("""{"spec":{"replicas":1},"status":{"replicas":5}}"""), "kubectl", "apps/v1", false,
            ignoredFields: FieldSet.Of([PathElement.Field("status")]));

        var applier = ManagedFieldsEntry.Read(result).Single(e => e.Manager == "kubectl");
        Assert.False(applier.Fields.Has([PathElement.Field("status"), PathElement.Field("replicas")]));
    }

    [Fact]
    public void Apply_ManagedFieldsInConfig_BadRequest()
    {
        var config = Obj("""{"metadata":{"managedFields":[]}}""");

        Assert.Equal(400, Assert.Throws<StatusException>(() => _deployments.Apply(null, config, "kubectl", "apps/v1", false)).Code);
    }

    [Fact]
    public void Update_Create_OwnsEverythingButIdentity()
    {
        var result = _deployments.Update(null, Obj(Config), "kubectl-create", "apps/v1");

        var entry = Assert.Single(ManagedFieldsEntry.Read(result));
        Assert.Equal("Update", entry.Operation);
        Assert.True(entry.Fields.Has([PathElement.Field("metadata"), PathElement.Field("labels"), PathElement.Field("app")]));
        Assert.True(entry.Fields.Has([PathElement.Field("metadata"), PathElement.Field("labels")]));
        Assert.False(entry.Fields.Has([PathElement.Field("metadata"), PathElement.Field("name")]));
        Assert.False(entry.Fields.Has([PathElement.Field("apiVersion")]));
    }

    [Fact]
    public void Update_ChangedField_MovesOwnership()
    {
        var applied = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", false);
        var scaled = (JsonObject)applied.DeepClone();
        scaled["spec"]!["replicas"] = 5;

        var result = _deployments.Update(applied, scaled, "kubectl-scale", "apps/v1", "scale");

        var entries = ManagedFieldsEntry.Read(result);
        var replicas = new[] { PathElement.Field("spec"), PathElement.Field("replicas") };
        Assert.False(entries.Single(e => e.Manager == "kubectl").Fields.Has(replicas));
        var scale = entries.Single(e => e.Manager == "kubectl-scale");
        Assert.True(scale.Fields.Has(replicas));
        Assert.Equal("scale", scale.Subresource);
        Assert.Equal("scale", (string?)Entries(result).Single(e => (string?)e!["manager"] == "kubectl-scale")!["subresource"]);
    }

    [Fact]
    public void Update_NoChange_KeepsEntriesAndTime()
    {
        var created = _deployments.Update(null, Obj(Config), "kubectl-create", "apps/v1");
        _time.Advance(TimeSpan.FromMinutes(5));

        var result = _deployments.Update(created, (JsonObject)created.DeepClone(), "kubectl-create", "apps/v1");

        Assert.Equal("2026-01-02T03:04:05Z", (string?)Entries(result)[0]!["time"]);
    }

    [Fact]
    public void Update_ExplicitManagedFields_ReplaceLiveOnes()
    {
        var applied = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", false);
        var reset = (JsonObject)applied.DeepClone();
        reset["metadata"]!["managedFields"] = new JsonArray(new JsonObject
        {
            ["manager"] = "migrated", ["operation"] = "Apply", ["apiVersion"] = "apps/v1", ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = new JsonObject { ["f:spec"] = new JsonObject { ["f:replicas"] = new JsonObject() } },
        });

        var result = _deployments.Update(applied, reset, "kubectl", "apps/v1");

        Assert.Equal("migrated", ManagedFieldsEntry.Read(result).Single().Manager);
    }

    [Fact]
    public void Update_RemovedField_DroppedFromOwners()
    {
        var applied = _deployments.Apply(null, Obj(Config), "kubectl", "apps/v1", false);
        var edited = (JsonObject)applied.DeepClone();
        edited["metadata"]!.AsObject().Remove("labels");

        var result = _deployments.Update(applied, edited, "kubectl-edit", "apps/v1");

        var entries = ManagedFieldsEntry.Read(result);
        Assert.False(entries.Single(e => e.Manager == "kubectl").Fields.Has([PathElement.Field("metadata"), PathElement.Field("labels"), PathElement.Field("app")]));
        Assert.DoesNotContain(entries, e => e.Manager == "kubectl-edit");
    }

    [Fact]
    public void Update_ManyManagers_CappedWithAncientChanges()
    {
        var current = _deployments.Update(null, Obj("""{"metadata":{"labels":{}}}"""), "creator", "apps/v1");
        for (var i = 0; i < 12; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var next = (JsonObject)current.DeepClone();
            next["metadata"]!["labels"]![$"l{i}"] = "v";
            current = _deployments.Update(current, next, $"m{i}", "apps/v1");
        }

        var entries = ManagedFieldsEntry.Read(current);
        Assert.Equal(FieldManager.MaxUpdateManagers, entries.Count);
        Assert.Contains(entries, e => e.Manager == FieldManager.AncientChangesManager);
        Assert.Contains(entries, e => e.Manager == "m11");
    }

    [Fact]
    public void Apply_NoSchema_DeducesFields()
    {
        var manager = new FieldManager(null, _time);
        var config = Obj("""{"apiVersion":"example.com/v1","kind":"Widget","spec":{"size":1,"tags":["a"]}}""");

        var result = manager.Apply(null, config, "kubectl", "example.com/v1", false);

        var fields = ManagedFieldsEntry.Read(result).Single().Fields;
        Assert.True(fields.Has([PathElement.Field("spec"), PathElement.Field("tags")]));
        Assert.True(fields.Has([PathElement.Field("spec")]));
    }

    [Fact]
    public void Apply_FinalizersSet_Union()
    {
        var pods = new FieldManager(TestSchemas.Pod, _time);
        var live = Obj("""{"metadata":{"finalizers":["a","b"]}}""");

        var result = pods.Apply(live, Obj("""{"metadata":{"finalizers":["c","a"]}}"""), "kubectl", "v1", force: true);

        Assert.Equal("""["c","a","b"]""", result["metadata"]!["finalizers"]!.ToJsonString());
        Assert.True(ManagedFieldsEntry.Read(result).Single(e => e.Manager == "kubectl").Fields.Has([PathElement.Field("metadata"), PathElement.Field("finalizers"), PathElement.Value("c")]));
    }

    [Fact]
    public void Apply_ObjectWithoutManagedFields_ConflictsWithBeforeFirstApply()
    {
        var live = Obj(Config.Replace("\"replicas\":3", "\"replicas\":2", StringComparison.Ordinal));

        var error = Assert.Throws<StatusException>(() => _deployments.Apply(live, Obj(Config), "kubectl", "apps/v1", false));

        Assert.Equal("Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas", error.Message);
    }

    [Fact]
    public void Apply_KubectlAfterClientSideApply_UpgradesWithoutConflictAndSyncsAnnotation()
    {
        var csa = Obj(Config.Replace("\"replicas\":3", "\"replicas\":2", StringComparison.Ordinal));
        var lastApplied = csa.ToJsonString();
        csa["metadata"]!["annotations"] = new JsonObject { [FieldManager.LastAppliedAnnotation] = lastApplied };
        var live = _deployments.Update(null, csa, "kubectl-client-side-apply", "apps/v1");

        var result = _deployments.Apply(live, Obj(Config), "kubectl", "apps/v1", false);

        Assert.Equal(3, (int?)result["spec"]!["replicas"]);
        var annotation = (string)result["metadata"]!["annotations"]![FieldManager.LastAppliedAnnotation]!;
        Assert.EndsWith("\n", annotation, StringComparison.Ordinal);
        Assert.Equal(3, (int?)JsonNode.Parse(annotation)!["spec"]!["replicas"]);
    }

    [Fact]
    public void Apply_OtherManagerChangedValueAfterClientSideApply_StillConflicts()
    {
        var csa = Obj(Config.Replace("\"replicas\":3", "\"replicas\":2", StringComparison.Ordinal));
        csa["metadata"]!["annotations"] = new JsonObject { [FieldManager.LastAppliedAnnotation] = csa.ToJsonString() };
        var live = _deployments.Update(null, csa, "kubectl-client-side-apply", "apps/v1");
        var scaled = (JsonObject)live.DeepClone();
        scaled["spec"]!["replicas"] = 5;
        live = _deployments.Update(live, scaled, "hpa", "apps/v1");

        var error = Assert.Throws<StatusException>(() => _deployments.Apply(live, Obj(Config), "kubectl", "apps/v1", false));

        Assert.Contains("conflict with \"hpa\" using apps/v1: .spec.replicas", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kubectl/v1.32.0 (linux/amd64) kubernetes/abc", "kubectl")]
    [InlineData("curl", "curl")]
    [InlineData(null, "")]
    public void ManagerFromUserAgent_TakesProductName(string? userAgent, string expected)
    {
        Assert.Equal(expected, FieldManager.ManagerFromUserAgent(userAgent));
    }

    [Fact]
    public void ValidateManagerName_ApplyWithoutManager_UpstreamInvalid()
    {
        var error = Assert.Throws<StatusException>(() => FieldManager.ValidateManagerName("", apply: true));

        Assert.Equal(422, error.Code);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", error.Message);
        FieldManager.ValidateManagerName("", apply: false);
        FieldManager.ValidateManagerName("kubectl", apply: true);
        Assert.Throws<StatusException>(() => FieldManager.ValidateManagerName(new string('a', 129), apply: false));
    }
}
