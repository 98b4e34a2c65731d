using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Patching;

namespace Kubesharp.ApiMachinery.Tests.Patching;

public sealed class PatchLimitsTests
{
    private static JsonArray Doubling(int copies) =>
        new([.. Enumerable.Range(0, copies).Select(i => (JsonNode)new JsonObject { ["op"] = "copy", ["from"] = "", ["path"] = $"/x{i}" })]);

    [Fact]
    public void JsonPatch_SelfCopyDoubling_StopsAtTheCopyBudgetBeforeCopying()
    {
        var document = new JsonObject { ["data"] = new string('v', 1000) };
        var limits = new PatchLimits { MaxCopyBytes = 64 * 1024, MaxResultBytes = long.MaxValue };
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Assert.Throws<StatusException>(() => JsonPatch.Apply(document, Doubling(30), limits));

        Assert.Equal(422, error.Code);
        Assert.StartsWith("Unable to complete the copy, the accumulated size increase of copy is ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("exceeding the limit 65536", error.Message, StringComparison.Ordinal);
        // Thirty doublings of 1 kB would be a terabyte; the budget holds the work to a small multiple of 64 KiB.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16L * 1024 * 1024);
    }

    [Fact]
    public void JsonPatch_CopiesWithinTheBudget_Apply()
    {
        var result = JsonPatch.Apply(new JsonObject { ["a"] = "b" }, Doubling(3), new PatchLimits { MaxCopyBytes = 1024 });
        Assert.Equal("""{"a":"b","x0":{"a":"b"},"x1":{"a":"b","x0":{"a":"b"}},"x2":{"a":"b","x0":{"a":"b"},"x1":{"a":"b","x0":{"a":"b"}}}}""", result!.ToJsonString());
    }

    [Fact]
    public void MergePatches_ResultOverTheLimit_Answer413()
    {
        var limits = new PatchLimits { MaxResultBytes = 100 };
        var patch = new JsonObject { ["big"] = new string('x', 200) };

        Assert.Equal(413, Assert.Throws<StatusException>(() => JsonMergePatch.Apply(new JsonObject(), patch, limits)).Code);
        Assert.Equal(413, Assert.Throws<StatusException>(() => StrategicMergePatch.Apply(new JsonObject(), patch, null, limits)).Code);
        Assert.Equal(413, Assert.Throws<StatusException>(() => JsonPatch.Apply(new JsonObject(), new JsonArray(new JsonObject { ["op"] = "add", ["path"] = "/big", ["value"] = new string('x', 200) }), limits)).Code);
    }

    [Theory]
    [InlineData("""{"a":"b"}""", 9)]
    [InlineData("""[1,true,null,"é"]""", 18)]
    [InlineData("""{"k":{"n":[1.5,{}]}}""", 20)]
    public void JsonSize_Measure_IsTheCompactUtf8Length(string json, long expected)
    {
        var node = JsonNode.Parse(json);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(node!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })), expected);
        Assert.Equal(expected, JsonSize.Measure(node, long.MaxValue));
        Assert.True(JsonSize.Exceeds(node, expected - 1));
        Assert.False(JsonSize.Exceeds(node, expected));
    }
}
