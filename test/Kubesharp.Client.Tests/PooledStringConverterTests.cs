using System.Text;
using System.Text.Json;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.Client.Tests;

/// <summary>
/// Objects decoded from the server share their repeated strings, and decoding gives exactly what the built-in reader
/// gives: escapes, long strings, non-ASCII text, empty strings, dictionary keys, and errors for bad input.
/// </summary>
public sealed class PooledStringConverterTests
{
    private static byte[] PodJson(string name) => Encoding.UTF8.GetBytes($$$"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}","namespace":"shop","labels":{"app":"web","tier":"front"}},
         "spec":{"nodeName":"node-7","containers":[{"name":"web","image":"registry.local/web:1.2"}]},
         "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}
        """);

    [Fact]
    public void Deserialize_TwoObjectsWithTheSameStrings_ShareOneCopyOfEach()
    {
        var first = KubernetesJson.Deserialize<Pod>(PodJson("web-1"));
        var second = KubernetesJson.Deserialize<Pod>(PodJson("web-2"));

        Assert.Same(first.Metadata!.Namespace, second.Metadata!.Namespace);
        Assert.Same(first.Spec!.NodeName, second.Spec!.NodeName);
        Assert.Same(first.Spec.Containers![0].Image, second.Spec.Containers![0].Image);
        Assert.Same(first.Status!.Phase, second.Status!.Phase);
        Assert.Same(first.Metadata.Labels!.Keys.Single(k => k == "tier"), second.Metadata.Labels!.Keys.Single(k => k == "tier"));
        Assert.Same(first.Metadata.Labels["app"], second.Metadata.Labels["app"]);
        Assert.Equal(("web-1", "web-2"), (first.Metadata.Name, second.Metadata.Name));
    }

    [Theory]
    [InlineData("""{"kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"line\nnext \u00e9 \"q\"","":""}}""")]
    [InlineData("""{"kind":"ConfigMap","metadata":{"name":"a"},"data":{"long":"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"}}""")]
    [InlineData("""{"kind":"ConfigMap","metadata":{"name":"\u0434\u0430\u043d\u043d\u044b\u0435-日本"},"data":{"ключ":"значение ✓"}}""")]
    public void Deserialize_AnyStrings_SameAsTheBuiltInReader(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var pooled = KubernetesJson.Deserialize<ConfigMap>(bytes);
        var builtIn = JsonSerializer.Deserialize(bytes, KubernetesJson.TypeInfo<ConfigMap>())!;

        Assert.Equal(builtIn.Metadata!.Name, pooled.Metadata!.Name);
        Assert.Equal(builtIn.Data, pooled.Data);
    }

    [Fact]
    public void Deserialize_InvalidUtf8OrWrongToken_FailsAsTheBuiltInReaderDoes()
    {
        byte[] badUtf8 = [.. Encoding.UTF8.GetBytes("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}}")];
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(badUtf8, KubernetesJson.TypeInfo<ConfigMap>()));
        Assert.ThrowsAny<JsonException>(() => KubernetesJson.Deserialize<ConfigMap>(badUtf8));

        var number = """{"kind":"ConfigMap","metadata":{"name":5}}"""u8.ToArray();
        Assert.ThrowsAny<JsonException>(() => KubernetesJson.Deserialize<ConfigMap>(number));
    }
}
