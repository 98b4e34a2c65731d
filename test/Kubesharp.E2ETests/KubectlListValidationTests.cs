using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// kubectl validates a <c>kind: List</c> file on the client against /openapi/v2, which it asks for in the gnostic
/// protobuf form; the server's answer must parse in every kubectl version and carry custom kinds too.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlListValidationTests(KubectlServer server) : IDisposable
{
    private const string ProtobufAccept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

    private readonly string _ns = "l" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "v" + Guid.NewGuid().ToString("N")[..10] + ".example.com";
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-list").FullName;

    private string Definition => new CustomResourceDefinitionManifest(_group, "gadgets", "Gadget")
    {
        Versions =
        [
            new("v1")
            {
                Storage = true,
                Spec = "{type: object, properties: {size: {type: integer}, note: {type: string, nullable: true}, extra: {type: object, x-kubernetes-preserve-unknown-fields: true}}}",
            },
        ],
    }.ToYaml();

    private string List(string configMapExtra, string gadgetExtra) => $$$"""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: settings
          data:
            mode: fast
        {{{configMapExtra}}}
        - apiVersion: {{{_group}}}/v1
          kind: Gadget
          metadata:
            name: g1
          spec:
            size: 3
            note: null
            extra: {anything: {goes: 1}}
        {{{gadgetExtra}}}
        """;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A kubectl of <paramref name="version"/> with its own discovery and OpenAPI cache, so it asks the server itself.</summary>
    private async Task<Kubectl.Result> RunAsync(string version, params string[] args)
    {
        var binary = Kubectl.OfVersion(version);
        Assert.True(binary is not null, $"kubectl {version} is not installed beside the kubectl on PATH");
        return await new Kubectl(server, binary).RunAsync([.. args, "--cache-dir", Path.Combine(_dir, "cache-" + Guid.NewGuid().ToString("N"))]);
    }

    private async Task<string> SetUpAsync(string version, string file, string content)
    {
        (await RunAsync(version, "create", "namespace", _ns)).Ok();
        var crd = Path.Combine(_dir, "crd.yaml");
        await File.WriteAllTextAsync(crd, Definition);
        (await RunAsync(version, "apply", "-f", crd)).Ok();
        (await RunAsync(version, "wait", "--for=condition=Established", $"crd/gadgets.{_group}", "--timeout=60s")).Ok();
        var path = Path.Combine(_dir, file);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    [KubectlVersionsTheory("1.27", "1.32", "1.33")]
    [InlineData("1.27")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task CreateList_ValidationOn_CreatesEveryItem(string version)
    {
        var file = await SetUpAsync(version, "list.yaml", List(string.Empty, string.Empty));

        var created = (await RunAsync(version, "create", "-n", _ns, "--validate=strict", "-f", file, "-v=8")).Ok();

        // That kubectl version (its User-Agent) validated the List on the client with the protobuf OpenAPI document.
        Assert.Contains($"/v{version}.", created.Error, StringComparison.Ordinal);
        Assert.Contains("/openapi/v2", created.Error, StringComparison.Ordinal);
        Assert.Contains(ProtobufAccept, created.Error, StringComparison.Ordinal);
        Assert.Contains("configmap/settings created", created.Output, StringComparison.Ordinal);
        Assert.Contains($"gadget.{_group}/g1 created", created.Output, StringComparison.Ordinal);
        Assert.Equal("fast", (await RunAsync(version, "get", "configmap", "settings", "-n", _ns, "-o", "jsonpath={.data.mode}")).Ok().Output);
        Assert.Equal("3", (await RunAsync(version, "get", $"gadgets.{_group}", "g1", "-n", _ns, "-o", "jsonpath={.spec.size}")).Ok().Output);

        // kubectl explain's v2 output reads the same protobuf document, custom kinds included.
        var explain = (await RunAsync(version, "explain", $"gadgets.{_group}.spec", "--output=plaintext-openapiv2")).Ok();
        Assert.Matches(@"KIND:\s+Gadget", explain.Output);
        Assert.Matches(@"size\s+<integer>", explain.Output);
        var configMap = (await RunAsync(version, "explain", "configmap.data", "--output=plaintext-openapiv2")).Ok();
        Assert.Matches(@"FIELD:\s+data <map\[string\]string>", configMap.Output);
    }

    [KubectlVersionsTheory("1.27", "1.32", "1.33")]
    [InlineData("1.27")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task CreateAndApplyList_UnknownField_RefusedByKubectlValidation(string version)
    {
        var builtIn = await SetUpAsync(version, "bad-configmap.yaml", List("  colour: red", string.Empty));
        var custom = Path.Combine(_dir, "bad-gadget.yaml");
        await File.WriteAllTextAsync(custom, List(string.Empty, "    shape: round"));

        var create = await RunAsync(version, "create", "-n", _ns, "-f", builtIn);
        var apply = await RunAsync(version, "apply", "-n", _ns, "--validate=strict", "-f", builtIn);
        var customCreate = await RunAsync(version, "create", "-n", _ns, "--validate=strict", "-f", custom);

        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("error validating data: ValidationError(ConfigMap): unknown field \"colour\" in io.k8s.api.core.v1.ConfigMap", create.Error, StringComparison.Ordinal);
        Assert.Contains("if you choose to ignore these errors, turn validation off with --validate=false", create.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, apply.ExitCode);
        Assert.Contains("unknown field \"colour\" in io.k8s.api.core.v1.ConfigMap", apply.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, customCreate.ExitCode);
        var definition = $"com.example.{_group.Split('.')[0]}.v1.Gadget";
        Assert.Contains($"ValidationError(Gadget.spec): unknown field \"shape\" in {definition}.spec", customCreate.Error, StringComparison.Ordinal);
        // Nothing of a refused List was created.
        var configMaps = (await RunAsync(version, "get", "configmaps", "-n", _ns, "-o", "name")).Ok();
        Assert.DoesNotContain("configmap/settings", configMaps.Output, StringComparison.Ordinal);
        Assert.Empty((await RunAsync(version, "get", $"gadgets.{_group}", "-n", _ns, "-o", "name")).Ok().Output.Trim());
    }
}
