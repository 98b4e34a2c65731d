using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Kubesharp.ApiMachinery.Patching;

namespace Kubesharp.ApiMachinery.Tests.Patching;

public sealed class PatchPropertyTests
{
    private static readonly Gen<string> Keys = Gen.Elements("a", "b", "c", "d", "spec", "x/y", "~z");

    private static Gen<JsonNode?> Scalar() => Gen.OneOf(
        Gen.Choose(-3, 3).Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.Elements("p", "q", "").Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)));

    private static Gen<JsonNode?> Node(int depth) => depth <= 0
        ? Scalar()
        : Gen.Frequency(
            (3, Scalar()),
            (2, Object(depth - 1).Select(o => (JsonNode?)o)),
            (1, Gen.ListOf(Scalar()).Select(l => (JsonNode?)new JsonArray(l.Take(4).ToArray()))));

    private static Gen<JsonObject> Object(int depth) =>
        Gen.ListOf(Gen.Zip(Keys, Node(depth))).Select(pairs =>
        {
            var obj = new JsonObject();
            foreach (var (key, value) in pairs.Take(5))
            {
                obj[key] = value?.DeepClone();
            }

            return obj;
        });

    private static Gen<JsonObject> PatchObject(int depth) =>
        Gen.ListOf(Gen.Zip(Keys, Gen.Frequency((1, Gen.Constant<JsonNode?>(null)), (4, depth <= 0 ? Scalar() : Gen.OneOf(Scalar(), PatchObject(depth - 1).Select(o => (JsonNode?)o)))))).Select(pairs =>
        {
            var obj = new JsonObject();
            foreach (var (key, value) in pairs.Take(5))
            {
                obj[key] = value?.DeepClone();
            }

            return obj;
        });

    [Fact]
    public void StrategicMergePatch_WithoutSchema_EqualsJsonMergePatch()
    {
        var property = Prop.ForAll(Gen.Zip(Object(3), PatchObject(3)).ToArbitrary(), pair =>
        {
            var (document, patch) = pair;
            var merge = JsonMergePatch.Apply(document, patch);
            var strategic = StrategicMergePatch.Apply(document, patch, null);
            return JsonNode.DeepEquals(merge, strategic);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public void JsonMergePatch_IsIdempotent()
    {
        var property = Prop.ForAll(Gen.Zip(Object(3), PatchObject(3)).ToArbitrary(), pair =>
        {
            var (document, patch) = pair;
            var once = JsonMergePatch.Apply(document, patch);
            var twice = JsonMergePatch.Apply(once, patch);
            return JsonNode.DeepEquals(once, twice);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public void JsonPatch_AddThenRemoveNewKey_RestoresDocument()
    {
        var property = Prop.ForAll(Gen.Zip(Object(3), Scalar()).ToArbitrary(), pair =>
        {
            var (document, value) = pair;
            var patch = new JsonArray(
                new JsonObject { ["op"] = "add", ["path"] = "/new~1key", ["value"] = value?.DeepClone() },
                new JsonObject { ["op"] = "test", ["path"] = "/new~1key", ["value"] = value?.DeepClone() },
                new JsonObject { ["op"] = "remove", ["path"] = "/new~1key" });
            return JsonNode.DeepEquals(document, JsonPatch.Apply(document, patch));
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}
