using Kubesharp.IntegrationTests.ApiServer;
using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>The real kubectl against a CustomResourceDefinition whose versions a conversion webhook in the test converts.</summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlConversionWebhookTests(KubectlServer server) : IAsyncLifetime
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "cw" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "w" + Guid.NewGuid().ToString("N")[..10] + ".example.com";
    private TestConversionWebhook _webhook = null!;
    private bool _webhookStopped;

    public async Task InitializeAsync() => _webhook = await TestConversionWebhook.StartAsync();

    public async Task DisposeAsync()
    {
        await _kubectl.RunAsync("delete", "crd", $"widgets.{_group}", "--ignore-not-found", "--wait=false");
        await _kubectl.RunAsync("delete", "namespace", _ns, "--ignore-not-found", "--wait=false");
        if (!_webhookStopped)
        {
            await _webhook.DisposeAsync();
        }
    }

    private string Definition => new CustomResourceDefinitionManifest(_group, "widgets", "Widget")
    {
        Webhook = (_webhook.Url("/convert"), _webhook.CaBundle),
        Versions =
        [
            new("v1") { Storage = true, Spec = "{type: object, properties: {color: {type: string}}}", PrinterColumns = ["{name: Color, type: string, jsonPath: .spec.color}"] },
            new("v2") { Spec = "{type: object, properties: {colour: {type: string}}}", PrinterColumns = ["{name: Colour, type: string, jsonPath: .spec.colour}"] },
        ],
    }.ToYaml();

    [Fact]
    public async Task GetInAnotherVersion_GoesThroughTheConversionWebhook()
    {
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();
        (await _kubectl.RunAsync(["apply", "-f", "-"], Definition, null)).Ok();
        (await _kubectl.RunAsync("wait", "--for=condition=Established", $"crd/widgets.{_group}", "--timeout=30s")).Ok();
        (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], $"apiVersion: {_group}/v1\nkind: Widget\nmetadata:\n  name: first\nspec:\n  color: red\n", null)).Ok();

        var table = (await _kubectl.RunAsync("get", $"widgets.v2.{_group}", "-n", _ns)).Ok();
        Assert.Matches(@"^NAME\s+COLOUR", table.Output);
        Assert.Matches(@"first\s+red", table.Output);
        Assert.Equal($"{_group}/v2 red", (await _kubectl.RunAsync("get", $"widgets.v2.{_group}", "first", "-n", _ns, "-o", "jsonpath={.apiVersion} {.spec.colour}")).Ok().Output);

        // Written through v2 with kubectl, read back in the stored version.
        (await _kubectl.RunAsync("patch", $"widgets.v2.{_group}", "first", "-n", _ns, "--type=merge", "-p", "{\"spec\":{\"colour\":\"blue\"}}")).Ok();
        Assert.Equal("blue", (await _kubectl.RunAsync("get", $"widgets.v1.{_group}", "first", "-n", _ns, "-o", "jsonpath={.spec.color}")).Ok().Output);
        Assert.Contains(_webhook.Calls, c => (string?)c.Request["desiredAPIVersion"] == $"{_group}/v1");

        // With the webhook gone, kubectl reports the server's error.
        await _webhook.DisposeAsync();
        _webhookStopped = true;
        var failed = await _kubectl.RunAsync("get", $"widgets.v2.{_group}", "first", "-n", _ns);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains($"conversion webhook for {_group}/v1, Kind=Widget failed: Post", failed.Error, StringComparison.Ordinal);
    }
}
