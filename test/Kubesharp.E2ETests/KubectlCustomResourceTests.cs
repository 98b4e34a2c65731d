using System.Text;
using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>The real kubectl against CustomResourceDefinitions: the life of a custom resource as users drive it.</summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlCustomResourceTests(KubectlServer server) : IDisposable
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "c" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "k" + Guid.NewGuid().ToString("N")[..10] + ".example.com";
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-crd").FullName;

    private string Definition => new CustomResourceDefinitionManifest(_group, "widgets", "Widget")
    {
        ShortNames = ["wdg"],
        Categories = ["gizmos"],
        Versions =
        [
            new("v1")
            {
                Storage = true,
                Subresources = "{status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}",
                PrinterColumns =
                [
                    "{name: Color, type: string, jsonPath: .spec.color}",
                    "{name: Replicas, type: integer, jsonPath: .spec.replicas}",
                    "{name: Age, type: date, jsonPath: .metadata.creationTimestamp}",
                ],
                Description = "A widget of the test suite.",
                Spec = """
                    type: object
                    description: What the widget should be.
                    required: [color]
                    properties:
                      color:
                        type: string
                        description: The widget's colour.
                        enum: [red, blue, green]
                      replicas:
                        type: integer
                        minimum: 0
                        maximum: 10
                        default: 1
                    """,
                Status = """
                    type: object
                    properties:
                      replicas: {type: integer}
                      conditions:
                        type: array
                        items:
                          type: object
                          properties:
                            type: {type: string}
                            status: {type: string}
                    """,
            },
        ],
    }.ToYaml();

    private async Task<Kubectl.Result> K(params string[] args) => await _kubectl.RunAsync(args);

    private async Task<string> WriteAsync(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    private async Task SetUpAsync()
    {
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();
        (await K("apply", "-f", await WriteAsync("crd.yaml", Definition))).Ok();
        (await K("wait", "--for=condition=Established", $"crd/widgets.{_group}", "--timeout=30s")).Ok();
    }

    private string Widget(string name, string color, int? replicas = null) =>
        $"apiVersion: {_group}/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  color: {color}\n" + (replicas is { } r ? $"  replicas: {r}\n" : string.Empty);

    [Fact]
    public async Task CustomResource_ApplyGetDescribeExplainLabelPatchScaleWaitDelete()
    {
        await SetUpAsync();
        var applied = (await K("apply", "-n", _ns, "-f", await WriteAsync("widgets.yaml", Widget("small", "red") + "---\n" + Widget("big", "blue", 4)))).Ok();
        Assert.Contains($"widget.{_group}/small created", applied.Output, StringComparison.Ordinal);

        // Applied again with a change: kubectl sends a merge patch, as the OpenAPI offers custom resources no strategic merge.
        var reapplied = (await K("apply", "-n", _ns, "-f", await WriteAsync("widgets-changed.yaml", Widget("small", "red") + "---\n" + Widget("big", "blue", 5)))).Ok();
        Assert.Contains($"widget.{_group}/big configured", reapplied.Output, StringComparison.Ordinal);
        Assert.Contains($"widget.{_group}/small unchanged", reapplied.Output, StringComparison.Ordinal);
        (await K("apply", "-n", _ns, "-f", await WriteAsync("widgets-back.yaml", Widget("small", "red") + "---\n" + Widget("big", "blue", 4)))).Ok();

        var table = (await K("get", "widgets", "-n", _ns)).Ok();
        Assert.Matches(@"^NAME\s+COLOR\s+REPLICAS\s+AGE", table.Output);
        Assert.Matches(@"big\s+blue\s+4\s+", table.Output);
        Assert.Matches(@"small\s+red\s+1\s+", table.Output);
        Assert.Contains("small", (await K("get", "wdg", "-n", _ns)).Ok().Output, StringComparison.Ordinal);
        Assert.Matches(@"big\s+blue\s+4", (await K("get", "gizmos", "-n", _ns)).Ok().Output);

        var describe = (await K("describe", "widget", "big", "-n", _ns)).Ok();
        Assert.Matches(@"Kind:\s+Widget", describe.Output);
        Assert.Matches(@"Color:\s+blue", describe.Output);

        var explain = (await K("explain", "widgets.spec.color")).Ok();
        Assert.Contains("KIND:       Widget", explain.Output, StringComparison.Ordinal);
        Assert.Contains("The widget's colour.", explain.Output, StringComparison.Ordinal);

        (await K("label", "widget", "small", "-n", _ns, "tier=gold")).Ok();
        Assert.Equal("small", (await K("get", "widgets", "-n", _ns, "-l", "tier=gold", "-o", "jsonpath={.items[*].metadata.name}")).Ok().Output);

        (await K("patch", "widget", "small", "-n", _ns, "--type=merge", "-p", "{\"spec\":{\"color\":\"green\"}}")).Ok();
        (await K("patch", "widget", "small", "-n", _ns, "--type=json", "-p", "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":2}]")).Ok();
        Assert.Equal("green 2", (await K("get", "widget", "small", "-n", _ns, "-o", "jsonpath={.spec.color} {.spec.replicas}")).Ok().Output);
        var strategic = await K("patch", "widget", "small", "-n", _ns, "-p", "{\"spec\":{\"color\":\"red\"}}");
        Assert.NotEqual(0, strategic.ExitCode);
        // kubectl words the server's 415 itself.
        Assert.Contains("application/strategic-merge-patch+json is not supported", strategic.Error, StringComparison.Ordinal);
        Assert.Contains("accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml", strategic.Error, StringComparison.Ordinal);

        var scaled = (await K("scale", "widget", "big", "-n", _ns, "--replicas=7")).Ok();
        Assert.Contains($"widget.{_group}/big scaled", scaled.Output, StringComparison.Ordinal);
        Assert.Equal("7", (await K("get", "widget", "big", "-n", _ns, "-o", "jsonpath={.spec.replicas}")).Ok().Output);

        (await K("patch", "widget", "big", "-n", _ns, "--subresource=status", "--type=merge", "-p", "{\"status\":{\"replicas\":7,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}")).Ok();
        (await K("wait", "-n", _ns, "--for=condition=Ready", "widget/big", "--timeout=20s")).Ok();
        Assert.Equal("7", (await K("get", "widget", "big", "-n", _ns, "--subresource=status", "-o", "jsonpath={.status.replicas}")).Ok().Output);

        var invalid = await K("apply", "-n", _ns, "-f", await WriteAsync("bad.yaml", Widget("bad", "purple", 11)));
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains("spec.color: Unsupported value: \"purple\": supported values: \"red\", \"blue\", \"green\"", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10", invalid.Error, StringComparison.Ordinal);

        var deleted = (await K("delete", "crd", $"widgets.{_group}", "--timeout=60s")).Ok();
        Assert.Contains("deleted", deleted.Output, StringComparison.Ordinal);
        var gone = await K("get", "widgets", "-n", _ns);
        Assert.NotEqual(0, gone.ExitCode);
        // kubectl's discovery cache may still know the resource: then the server's 404 for it is the answer.
        Assert.True(
            gone.Error.Contains("the server doesn't have a resource type \"widgets\"", StringComparison.Ordinal) ||
            gone.Error.Contains($"Unable to list \"{_group}/v1, Resource=widgets\": the server could not find the requested resource", StringComparison.Ordinal),
            gone.Error);
    }

    [Fact]
    public async Task ServerSideApply_LargeDefinition_IsEstablished()
    {
        // Several hundred KB, as definitions of operators with wide schemas are.
        var properties = new StringBuilder("type: object\nproperties:\n");
        for (var i = 0; i < 1500; i++)
        {
            properties.Append(System.Globalization.CultureInfo.InvariantCulture, $"  field{i}:\n    type: string\n    description: {new string('d', 200)}\n");
        }

        var definition = new CustomResourceDefinitionManifest(_group, "bigs", "Big") { Scope = "Cluster", Versions = [new("v1") { Storage = true, Spec = properties.ToString() }] }.ToYaml();
        Assert.True(definition.Length > 300_000);
        var file = await WriteAsync("big.yaml", definition);
        (await K("apply", "--server-side", "-f", file)).Ok();
        (await K("wait", "--for=condition=Established", $"crd/bigs.{_group}", "--timeout=30s")).Ok();
        (await _kubectl.RunAsync(["apply", "--server-side", "-f", "-"], $"apiVersion: {_group}/v1\nkind: Big\nmetadata:\n  name: one\nspec:\n  field7: seven\n", null)).Ok();
        Assert.Equal("seven", (await K("get", "bigs", "one", "-o", "jsonpath={.spec.field7}")).Ok().Output);
        var again = (await K("apply", "--server-side", "-f", file)).Ok();
        Assert.Contains("serverside-applied", again.Output, StringComparison.Ordinal);
        (await K("delete", "crd", $"bigs.{_group}", "--timeout=60s")).Ok();
    }

    [Fact]
    public async Task ValidationRules_RefuseUpdatesBreakingRulesAndTransitions()
    {
        await SetUpAsync();
        var definition = new CustomResourceDefinitionManifest(_group, "dials", "Dial")
        {
            Versions =
            [
                new("v1")
                {
                    Storage = true,
                    Spec = """
                        type: object
                        x-kubernetes-validations:
                        - rule: self.level <= self.limit
                          messageExpression: "'level ' + string(self.level) + ' is above the limit of ' + string(self.limit)"
                          fieldPath: .level
                        properties:
                          level: {type: integer}
                          limit: {type: integer}
                          owner:
                            type: string
                            maxLength: 32
                            x-kubernetes-validations:
                            - {rule: self == oldSelf, message: owner is immutable}
                        """,
                },
            ],
        }.ToYaml();
        (await K("apply", "-f", await WriteAsync("dials.yaml", definition))).Ok();
        (await K("wait", "--for=condition=Established", $"crd/dials.{_group}", "--timeout=30s")).Ok();
        string Dial(int level, string owner) => $"apiVersion: {_group}/v1\nkind: Dial\nmetadata:\n  name: volume\nspec:\n  level: {level}\n  limit: 10\n  owner: {owner}\n";

        (await K("apply", "-n", _ns, "-f", await WriteAsync("dial.yaml", Dial(3, "ann")))).Ok();

        var tooHigh = await K("replace", "-n", _ns, "-f", await WriteAsync("dial.yaml", Dial(11, "ann")));
        Assert.NotEqual(0, tooHigh.ExitCode);
        Assert.Contains($"The Dial \"volume\" is invalid: spec.level: Invalid value: level 11 is above the limit of 10", tooHigh.Error, StringComparison.Ordinal);

        var newOwner = await K("patch", "dial", "volume", "-n", _ns, "--type=merge", "-p", "{\"spec\":{\"owner\":\"bob\"}}");
        Assert.NotEqual(0, newOwner.ExitCode);
        Assert.Contains("spec.owner: Invalid value: \"bob\": owner is immutable", newOwner.Error, StringComparison.Ordinal);

        (await K("patch", "dial", "volume", "-n", _ns, "--type=merge", "-p", "{\"spec\":{\"level\":9}}")).Ok();
        Assert.Equal("9 ann", (await K("get", "dial", "volume", "-n", _ns, "-o", "jsonpath={.spec.level} {.spec.owner}")).Ok().Output);
        (await K("delete", "crd", $"dials.{_group}", "--timeout=60s")).Ok();
    }

    public void Dispose()
    {
        foreach (var args in new[] { new[] { "delete", "crd", $"widgets.{_group}", $"bigs.{_group}", $"dials.{_group}", "--ignore-not-found", "--wait=false" }, new[] { "delete", "namespace", _ns, "--ignore-not-found", "--wait=false" } })
        {
            using var process = _kubectl.Start(args);
            process.WaitForExit(30_000);
        }

        Directory.Delete(_dir, recursive: true);
    }
}
