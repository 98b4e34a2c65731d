using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class YamlDecoderTests
{
    [Fact]
    public void Decode_Manifest_ProducesJson()
    {
        var node = YamlDecoder.Decode("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: web
              labels: {app: web, "tier": front}
            spec:
              containers:
              - name: nginx
                image: "nginx:1.25"
                ports:
                - containerPort: 80
                args: ['a', "b", c]
              hostNetwork: false
              priority: -5
            """);

        Assert.Equal(
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web","tier":"front"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.25","ports":[{"containerPort":80}],"args":["a","b","c"]}],"hostNetwork":false,"priority":-5}}""",
            node!.ToJsonString());
    }

    [Theory]
    [InlineData("v: 12", "12")]
    [InlineData("v: 0x1F", "31")]
    [InlineData("v: 0755", "493")]
    [InlineData("v: 0o17", "15")]
    [InlineData("v: 1_000", "1000")]
    [InlineData("v: 1.5", "1.5")]
    [InlineData("v: 1e3", "1000")]
    [InlineData("v: yes", "true")]
    [InlineData("v: Off", "false")]
    [InlineData("v: ~", "null")]
    [InlineData("v:", "null")]
    [InlineData("v: '12'", "\"12\"")]
    [InlineData("v: !!str 12", "\"12\"")]
    [InlineData("v: 1.2.3", "\"1.2.3\"")]
    [InlineData("v: 12abc", "\"12abc\"")]
    [InlineData("v: 2024-01-01T00:00:00Z", "\"2024-01-01T00:00:00Z\"")]
    [InlineData("v: |\n  line1\n  line2\n", "\"line1\\nline2\\n\"")]
    public void Decode_Scalars_ResolvedLikeUpstream(string yaml, string expectedValue)
    {
        var node = YamlDecoder.Decode(yaml)!;

        Assert.Equal(expectedValue, node["v"]?.ToJsonString() ?? "null");
    }

    [Fact]
    public void Decode_NonStringKeys_BecomeStrings()
    {
        Assert.Equal("""{"1":"a","true":"b"}""", YamlDecoder.Decode("1: a\ntrue: b")!.ToJsonString());
    }

    [Fact]
    public void Decode_AnchorsAliasesAndMergeKeys_Expanded()
    {
        var node = YamlDecoder.Decode("""
            base: &base {a: 1, b: 2}
            copy: *base
            merged:
              <<: *base
              b: 3
            """)!;

        Assert.Equal("""{"a":1,"b":2}""", node["copy"]!.ToJsonString());
        Assert.Equal("""{"b":3,"a":1}""", node["merged"]!.ToJsonString());
    }

    [Fact]
    public void DecodeAll_MultiDocument_SkipsEmptyDocuments()
    {
        var docs = YamlDecoder.DecodeAll("a: 1\n---\n---\nb: 2\n...\n---\nc: 3\n");

        Assert.Equal(["""{"a":1}""", """{"b":2}""", """{"c":3}"""], docs.Select(d => d.ToJsonString()));
    }

    [Fact]
    public void Decode_BillionLaughs_RejectedCheaply()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var i = 1; i < 10; i++)
        {
            var prev = (char)('a' + i - 1);
            var name = (char)('a' + i);
            yaml.Append(name).Append(": &").Append(name).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + prev, 9))).Append("]\n");
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<StatusException>(() => YamlDecoder.Decode(yaml.ToString()));

        Assert.Equal(400, error.Code);
        Assert.Contains("excessive aliasing", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 200_000_000, "expansion should stop at the alias budget");
    }

    [Fact]
    public void Decode_DeepNesting_Rejected()
    {
        var yaml = new string('[', 2000) + new string(']', 2000);

        var error = Assert.Throws<StatusException>(() => YamlDecoder.Decode(yaml));

        Assert.Contains("exceeded max depth of 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_CustomLimits_Applied()
    {
        var limits = new DecodingLimits { MaxDepth = 3 };

        Assert.NotNull(YamlDecoder.Decode("a: {b: [1]}", limits));
        Assert.Throws<StatusException>(() => YamlDecoder.Decode("a: {b: [[1]]}", limits));
    }

    [Fact]
    public void Decode_Malformed_BadRequestWithLine()
    {
        var error = Assert.Throws<StatusException>(() => YamlDecoder.Decode("a: b\n  c: d: e\n"));

        Assert.Equal(400, error.Code);
        Assert.StartsWith("error converting YAML to JSON: yaml: line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnknownAlias_BadRequest()
    {
        Assert.Contains("unknown anchor", Assert.Throws<StatusException>(() => YamlDecoder.Decode("a: *nope")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_Json_IsYaml()
    {
        Assert.Equal("""{"a":[1,"x",null,true]}""", YamlDecoder.Decode("""{"a": [1, "x", null, true]}""")!.ToJsonString());
    }

    [Fact]
    public void Decode_Empty_Null()
    {
        Assert.Null(YamlDecoder.Decode(""));
        Assert.Empty(YamlDecoder.DecodeAll("---\n"));
    }
}
