using System.Text;
using System.Text.Json;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// One webhook of a Mutating- or ValidatingWebhookConfiguration with upstream's defaults filled in
/// (failurePolicy Fail, matchPolicy Equivalent, timeoutSeconds 10, empty selectors, service port 443).
/// </summary>
internal sealed record Webhook
{
    public required string ConfigurationName { get; init; }

    public required string Name { get; init; }

    /// <summary>Rules, matchPolicy and the namespace and object selectors.</summary>
    public required MatchResources Match { get; init; }

    public required MatchConditionSet Conditions { get; init; }

    public required bool FailOpen { get; init; }

    /// <summary>None or NoneOnDryRun: the webhook may be called for dry runs.</summary>
    public required bool DryRunSafe { get; init; }

    public required TimeSpan Timeout { get; init; }

    public required bool ReinvokeIfNeeded { get; init; }

    public Uri? Url { get; init; }

    public string? ServiceNamespace { get; init; }

    public string? ServiceName { get; init; }

    public string ServicePath { get; init; } = "/";

    public int ServicePort { get; init; } = 443;

    /// <summary>PEM certificates the webhook's serving certificate must chain to; empty for the system's roots.</summary>
    public string CaBundle { get; init; } = string.Empty;

    /// <summary>Where the request is posted: the URL, or https://NAME.NAMESPACE.svc:PORT/PATH for a service.</summary>
    public Uri Address => Url ?? new Uri($"https://{ServiceName}.{ServiceNamespace}.svc:{ServicePort}{ServicePath}");

    public static IEnumerable<Webhook> ParseConfiguration(JsonElement configuration, bool mutating)
    {
        var name = configuration.GetProperty("metadata").GetProperty("name").GetString()!;
        if (!configuration.TryGetProperty("webhooks", out var webhooks) || webhooks.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var w in webhooks.EnumerateArray())
        {
            if (Parse(name, w, mutating) is { } webhook)
            {
                yield return webhook;
            }
        }
    }

    private static Webhook? Parse(string configuration, JsonElement w, bool mutating)
    {
        if (w.ValueKind != JsonValueKind.Object || Text(w, "name") is not { } name || !w.TryGetProperty("clientConfig", out var client))
        {
            return null;
        }

        var caBundle = string.Empty;
        if (Text(client, "caBundle") is { Length: > 0 } encoded)
        {
            try
            {
                caBundle = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                caBundle = string.Empty;
            }
        }

        Uri? url = null;
        if (Text(client, "url") is { Length: > 0 } text && Uri.TryCreate(text, UriKind.Absolute, out var parsed))
        {
            url = parsed;
        }

        var service = client.TryGetProperty("service", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var timeout = w.TryGetProperty("timeoutSeconds", out var t) && t.TryGetInt32(out var seconds) ? seconds : 10;
        return new Webhook
        {
            ConfigurationName = configuration,
            Name = name,
            Match = new MatchResources
            {
                Rules = AdmissionRule.ParseList(w, "rules"),
                ExactMatch = Text(w, "matchPolicy") == "Exact",
                NamespaceSelector = MatchResources.Selector(w, "namespaceSelector"),
                ObjectSelector = MatchResources.Selector(w, "objectSelector"),
            },
            Conditions = MatchConditionSet.Parse(w, AdmissionExpressions.Webhook),
            FailOpen = Text(w, "failurePolicy") == "Ignore",
            DryRunSafe = Text(w, "sideEffects") is "None" or "NoneOnDryRun",
            Timeout = TimeSpan.FromSeconds(Math.Clamp(timeout, 1, 30)),
            ReinvokeIfNeeded = mutating && Text(w, "reinvocationPolicy") == "IfNeeded",
            Url = url,
            ServiceNamespace = service.ValueKind == JsonValueKind.Object ? Text(service, "namespace") : null,
            ServiceName = service.ValueKind == JsonValueKind.Object ? Text(service, "name") : null,
            ServicePath = service.ValueKind == JsonValueKind.Object && Text(service, "path") is { Length: > 0 } path ? path : "/",
            ServicePort = service.ValueKind == JsonValueKind.Object && service.TryGetProperty("port", out var port) && port.TryGetInt32(out var p) ? p : 443,
            CaBundle = caBundle,
        };
    }

    private static string? Text(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
