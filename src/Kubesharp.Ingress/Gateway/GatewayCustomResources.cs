using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// The Gateway API kinds the gateway controller implements (GatewayClass, Gateway, HTTPRoute of
/// gateway.networking.k8s.io/v1, ReferenceGrant of v1beta1) as CustomResourceDefinitions, applied with server-side apply at start so that an
/// upgrade brings its schema along, and the default GatewayClass, created once (an edited one is left alone).
/// </summary>
internal static class GatewayCustomResources
{
    public const string Group = "gateway.networking.k8s.io";
    public const string Version = "v1";
    public const string FieldManager = "kubesharp-gateway";

    public const string GatewayClasses = "/apis/" + Group + "/" + Version + "/gatewayclasses";
    public const string Gateways = "/apis/" + Group + "/" + Version + "/gateways";
    public const string HttpRoutes = "/apis/" + Group + "/" + Version + "/httproutes";

    /// <summary>ReferenceGrant is served as v1beta1 only (upstream's standard channel).</summary>
    public const string ReferenceGrants = "/apis/" + Group + "/v1beta1/referencegrants";

    /// <summary>The definitions, as the embedded manifest holds them.</summary>
    public static IReadOnlyList<JsonObject> Definitions()
    {
        using var stream = typeof(GatewayCustomResources).Assembly.GetManifestResourceStream("GatewayCustomResources.yaml")
            ?? throw new InvalidOperationException("the Gateway API manifest is not embedded");
        using var reader = new StreamReader(stream);
        return [.. YamlDecoder.DecodeAll(reader.ReadToEnd()).Cast<JsonObject>()];
    }

    public static JsonObject DefaultClass(string name) => new()
    {
        ["apiVersion"] = Group + "/" + Version,
        ["kind"] = "GatewayClass",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["controllerName"] = IngressOptions.GatewayControllerName },
    };

    /// <summary>
    /// Applies the definitions, then creates the default class (which fails until the definitions are served); each
    /// step retried a bounded number of times while the API is not ready. False when it gave up.
    /// </summary>
    public static async Task<bool> EnsureAsync(KubernetesClient client, string? defaultClass, TimeProvider time, Action<Exception> failed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(failed);
        foreach (var definition in Definitions())
        {
            var path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + (string?)definition["metadata"]!["name"];
            if (!await RetryAsync(() => client.PatchJsonAsync(path, PatchType.Apply, definition, new PatchOptions { FieldManager = FieldManager, Force = true }, cancellationToken), time, failed, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return defaultClass is null
            || await RetryAsync(() => client.SendRequiredJsonAsync(HttpMethod.Post, GatewayClasses, DefaultClass(defaultClass), cancellationToken), time, failed, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> RetryAsync(Func<Task<JsonObject?>> step, TimeProvider time, Action<Exception> failed, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 0; attempt < 60; attempt++)
        {
            try
            {
                await step().ConfigureAwait(false);
                return true;
            }
            catch (StatusException e) when (e.IsAlreadyExists())
            {
                return true;
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or IOException)
            {
                failed(e);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }

        return false;
    }
}
