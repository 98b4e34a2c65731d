using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests;

/// <summary>kubectl's generator verbs (create …, run) send typed objects as Kubernetes protobuf.</summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlProtobufTests(KubectlServer server)
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "p" + Guid.NewGuid().ToString("N")[..10];

    private async Task<JsonObject> GetAsync(params string[] args)
    {
        var result = (await _kubectl.RunAsync([.. args, "-o", "json"])).Ok();
        return JsonNode.Parse(result.Output)!.AsObject();
    }

    [Fact]
    public async Task CreateNamespace_Protobuf_IsStored()
    {
        var create = (await _kubectl.RunAsync("create", "namespace", _ns, "-v=8")).Ok();
        Assert.Contains("application/vnd.kubernetes.protobuf", create.Error, StringComparison.Ordinal);

        var ns = await GetAsync("get", "namespace", _ns);
        Assert.Equal(_ns, (string?)ns["metadata"]!["name"]);
        Assert.Equal("Namespace", (string?)ns["kind"]);
    }

    [Fact]
    public async Task CreateDeployment_Protobuf_HasReplicasAndTemplate()
    {
        (await _kubectl.RunAsync("create", "namespace", _ns)).Ok();
        (await _kubectl.RunAsync("create", "deployment", "web", "--image=busybox", "--replicas=2", "-n", _ns)).Ok();

        var deployment = await GetAsync("get", "deployment", "web", "-n", _ns);
        Assert.Equal(2, (int)deployment["spec"]!["replicas"]!);
        Assert.Equal("web", (string?)deployment["spec"]!["selector"]!["matchLabels"]!["app"]);
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("busybox", (string?)container["image"]);
        Assert.Equal("busybox", (string?)container["name"]);
        Assert.Equal("web", (string?)deployment["spec"]!["template"]!["metadata"]!["labels"]!["app"]);
    }

    [Fact]
    public async Task CreateSecretAndConfigMap_Protobuf_KeepData()
    {
        (await _kubectl.RunAsync("create", "namespace", _ns)).Ok();
        (await _kubectl.RunAsync("create", "secret", "generic", "s", "--from-literal=a=b", "-n", _ns)).Ok();
        (await _kubectl.RunAsync("create", "configmap", "c", "--from-literal=x=y", "-n", _ns)).Ok();

        var secret = await GetAsync("get", "secret", "s", "-n", _ns);
        Assert.Equal(Convert.ToBase64String("b"u8.ToArray()), (string?)secret["data"]!["a"]);
        Assert.Equal("Opaque", (string?)secret["type"]);
        var configMap = await GetAsync("get", "configmap", "c", "-n", _ns);
        Assert.Equal("y", (string?)configMap["data"]!["x"]);
    }

    [Fact]
    public async Task Run_Protobuf_CreatesPod()
    {
        (await _kubectl.RunAsync("create", "namespace", _ns)).Ok();
        (await _kubectl.RunAsync("run", "p", "--image=busybox", "-n", _ns, "--labels=app=p", "--", "sleep", "3600")).Ok();

        var pod = await GetAsync("get", "pod", "p", "-n", _ns);
        var container = pod["spec"]!["containers"]![0]!;
        Assert.Equal("busybox", (string?)container["image"]);
        Assert.Equal(["sleep", "3600"], container["args"]!.AsArray().Select(a => (string?)a));
        Assert.Equal("p", (string?)pod["metadata"]!["labels"]!["app"]);
        Assert.Equal("Always", (string?)pod["spec"]!["restartPolicy"]);
    }
}
