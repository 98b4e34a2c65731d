using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kubesharp.IntegrationTests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// An operator written with the official C# client (KubernetesClient): it watches custom objects and reconciles
/// each into a ConfigMap it owns; deleting the custom object lets the garbage collector remove the ConfigMap.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed class OperatorTests(KubectlServer server) : IDisposable
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "o" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "op" + Guid.NewGuid().ToString("N")[..10] + ".example.com";

    private string Definition => new CustomResourceDefinitionManifest(_group, "greetings", "Greeting")
    {
        Versions =
        [
            new("v1") { Storage = true, Spec = "{type: object, properties: {message: {type: string}}}" },
            new("v1beta1") { Spec = "{type: object, properties: {message: {type: string}}}" },
        ],
    }.ToYaml();

    [Fact]
    public async Task Operator_OfficialClient_ReconcilesCustomObjectsIntoOwnedConfigMaps()
    {
        (await _kubectl.RunAsync(["apply", "-f", "-"], Definition + $"\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();
        (await _kubectl.RunAsync("wait", "--for=condition=Established", $"crd/greetings.{_group}", "--timeout=30s")).Ok();

        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Kubeconfig));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var running = RunOperatorAsync(client, stop.Token);
        try
        {
            // Written in the second version; the operator watches the first.
            (await _kubectl.RunAsync(["apply", "-n", _ns, "-f", "-"], $"apiVersion: {_group}/v1beta1\nkind: Greeting\nmetadata:\n  name: hello\nspec:\n  message: hi\n", null)).Ok();
            var uid = (await _kubectl.RunAsync("get", "greeting", "hello", "-n", _ns, "-o", "jsonpath={.metadata.uid}")).Ok().Output;
            var owned = await EventuallyAsync(() => ConfigMapAsync(client, "hello-greeting"), c => c?.Data?["message"] == "hi", "the operator's config map");
            var reference = Assert.Single(owned!.Metadata.OwnerReferences);
            Assert.Equal(uid, reference.Uid);
            Assert.Equal("Greeting", reference.Kind);
            Assert.Equal($"{_group}/v1", reference.ApiVersion);
            Assert.True(reference.Controller);

            (await _kubectl.RunAsync("patch", "greeting", "hello", "-n", _ns, "--type=merge", "-p", "{\"spec\":{\"message\":\"bye\"}}")).Ok();
            await EventuallyAsync(() => ConfigMapAsync(client, "hello-greeting"), c => c?.Data?["message"] == "bye", "the config map to follow the change");

            (await _kubectl.RunAsync("delete", "greeting", "hello", "-n", _ns)).Ok();
            await EventuallyAsync(() => ConfigMapAsync(client, "hello-greeting"), c => c is null, "the garbage collector to delete the owned config map");
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    /// <summary>The operator: list-watch of greetings, each reconciled into its ConfigMap with server-side apply.</summary>
    private async Task RunOperatorAsync(Kubernetes client, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 100 && !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                var watch = client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<object>(_group, "v1", _ns, "greetings", watch: true, cancellationToken: cancellationToken);
#pragma warning disable CS0618 // the list-with-watch form is the one that takes a custom resource's group, version and plural
                await foreach (var (type, item) in watch.WatchAsync<JsonElement, object>(cancellationToken: cancellationToken))
#pragma warning restore CS0618
                {
                    if (type is WatchEventType.Added or WatchEventType.Modified)
                    {
                        await ReconcileAsync(client, item, cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException)
            {
                await Task.Delay(200, CancellationToken.None);
            }
        }
    }

    private async Task ReconcileAsync(Kubernetes client, JsonElement greeting, CancellationToken cancellationToken)
    {
        var metadata = greeting.GetProperty("metadata");
        var name = metadata.GetProperty("name").GetString()!;
        var configMap = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta
            {
                Name = name + "-greeting",
                NamespaceProperty = _ns,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = $"{_group}/v1",
                        Kind = "Greeting",
                        Name = name,
                        Uid = metadata.GetProperty("uid").GetString()!,
                        Controller = true,
                        BlockOwnerDeletion = true,
                    },
                ],
            },
            Data = new Dictionary<string, string> { ["message"] = greeting.GetProperty("spec").GetProperty("message").GetString() ?? string.Empty },
        };
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(configMap, V1Patch.PatchType.ApplyPatch), configMap.Metadata.Name, _ns, fieldManager: "greeting-operator", force: true, cancellationToken: cancellationToken);
    }

    private async Task<V1ConfigMap?> ConfigMapAsync(Kubernetes client, string name)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedConfigMapAsync(name, _ns);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what)
    {
        var last = default(T);
        for (var i = 0; i < 300; i++)
        {
            last = await read();
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"waited 30 s for {what}; last seen: {JsonSerializer.Serialize(last)}");
    }

    public void Dispose()
    {
        using var process = _kubectl.Start(["delete", "crd", $"greetings.{_group}", "--ignore-not-found", "--wait=false"]);
        process.WaitForExit(30_000);
        using var ns = _kubectl.Start(["delete", "namespace", _ns, "--ignore-not-found", "--wait=false"]);
        ns.WaitForExit(30_000);
    }
}
