using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Kubesharp.ApiMachinery.ManagedFields;

namespace Kubesharp.ApiMachinery.Tests.ManagedFields;

public sealed class FieldManagerPropertyTests
{
    private static readonly Gen<JsonObject> Container =
        Gen.Zip(Gen.Elements("a", "b", "c", "d"), Gen.Zip(Gen.Elements("nginx:1", "nginx:2", "busybox"), Gen.ListOf(Gen.Elements(80, 443, 8080))))
            .Select(t =>
            {
                var (name, (image, ports)) = t;
                var container = new JsonObject { ["name"] = name, ["image"] = image };
                var distinct = ports.Distinct().ToList();
                if (distinct.Count > 0)
                {
                    container["ports"] = new JsonArray(distinct.Select(p => (JsonNode)new JsonObject { ["containerPort"] = p }).ToArray());
                }

                return container;
            });

    private static readonly Gen<JsonObject> Pod =
        Gen.Zip(Gen.ListOf(Container), Gen.Zip(Gen.ListOf(Gen.Elements("x", "y", "z")), Gen.ListOf(Gen.Elements("f/1", "f/2"))))
            .Select(t =>
            {
                var (containers, (labels, finalizers)) = t;
                var metadata = new JsonObject { ["name"] = "p" };
                if (labels.Count > 0)
                {
                    metadata["labels"] = new JsonObject(labels.Distinct().Select(l => KeyValuePair.Create(l, (JsonNode?)JsonValue.Create("v"))));
                }

                if (finalizers.Count > 0)
                {
                    metadata["finalizers"] = new JsonArray(finalizers.Distinct().Select(f => (JsonNode)JsonValue.Create(f)).ToArray());
                }

                var unique = containers.GroupBy(c => (string)c["name"]!).Select(g => g.First()).ToList();
                var pod = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = metadata };
                if (unique.Count > 0)
                {
                    pod["spec"] = new JsonObject { ["containers"] = new JsonArray(unique.Select(c => (JsonNode)c).ToArray()) };
                }

                return pod;
            });

    private static readonly FieldManager Pods = new(TestSchemas.Pod);

    [Fact]
    public void Apply_SameConfigTwice_IsIdempotent()
    {
        var property = Prop.ForAll(Pod.ToArbitrary(), config =>
        {
            var once = Pods.Apply(null, config, "kubectl", "v1", false);
            var twice = Pods.Apply(once, config, "kubectl", "v1", false);
            return JsonNode.DeepEquals(once, twice);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Fact]
    public void Apply_ThenApplyNothing_RemovesEverythingApplied()
    {
        var property = Prop.ForAll(Pod.ToArbitrary(), config =>
        {
            var applied = Pods.Apply(null, config, "kubectl", "v1", false);
            var empty = JsonNode.Parse("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}""")!.AsObject();
            var result = Pods.Apply(applied, empty, "kubectl", "v1", false);
            return JsonNode.DeepEquals(result, empty);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Fact]
    public void Apply_SecondConfig_ResultIndependentOfFirst()
    {
        var property = Prop.ForAll(Gen.Zip(Pod, Pod).ToArbitrary(), pair =>
        {
            var (first, second) = pair;
            var viaFirst = Pods.Apply(Pods.Apply(null, first, "kubectl", "v1", false), second, "kubectl", "v1", false);
            var direct = Pods.Apply(null, second, "kubectl", "v1", false);
            return JsonNode.DeepEquals(Normalize(viaFirst), Normalize(direct));
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Fact]
    public void FieldsV1_RoundTrip_PreservesSet()
    {
        var property = Prop.ForAll(Pod.ToArbitrary(), config =>
        {
            var set = Pods.FieldsOf(config);
            return FieldSet.FromFieldsV1(JsonNode.Parse(set.ToFieldsV1().ToJsonString())).SetEquals(set);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    /// <summary>Sole-applier results compare without list order and timestamps.</summary>
    private static JsonNode Normalize(JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        if (copy["metadata"]?["managedFields"] is JsonArray entries)
        {
            foreach (var entry in entries.OfType<JsonObject>())
            {
                entry.Remove("time");
            }
        }

        if (copy["spec"]?["containers"] is JsonArray containers)
        {
            var sorted = containers.Select(c => c!.DeepClone()).OrderBy(c => (string?)c["name"], StringComparer.Ordinal).ToArray();
            copy["spec"]!["containers"] = new JsonArray(sorted);
        }

        if (copy["metadata"]?["finalizers"] is JsonArray finalizers)
        {
            copy["metadata"]!["finalizers"] = new JsonArray(finalizers.Select(f => f!.DeepClone()).OrderBy(f => (string?)f, StringComparer.Ordinal).ToArray());
        }

        return copy;
    }
}
