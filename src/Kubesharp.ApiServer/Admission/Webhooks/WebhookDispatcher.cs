using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;
using Kubesharp.ApiServer.Admission.Cel;
using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Authorization;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// Decides which webhooks a request reaches (rules, matchPolicy, namespace and object selectors, matchConditions) and calls them:
/// an AdmissionReview v1 posted over HTTPS through the <see cref="WebhookClient"/>.
/// </summary>
internal sealed partial class WebhookDispatcher
{
    private readonly ILogger _logger;
    private readonly WebhookClient _client;

    private readonly AdmissionMatcher _matcher;
    private readonly Lazy<RequestAuthorizer> _authorizer;

    public WebhookDispatcher(WebhookClient client, AdmissionMatcher matcher, Lazy<RequestAuthorizer> authorizer, ILogger logger)
    {
        _authorizer = authorizer;
        _client = client;
        _matcher = matcher;
        _logger = logger;
    }

    public ILogger Logger => _logger;

    /// <summary>
    /// The shared prologue of both webhook plugins: the webhooks the request reaches (rules and selectors, then
    /// matchConditions), refusing a dry run a matching webhook cannot take. A match condition that fails to evaluate
    /// counts as a failed call: skipped under failurePolicy Ignore, refused under Fail.
    /// </summary>
    public List<Webhook> Select(IReadOnlyList<Webhook> webhooks, AdmissionAttributes attributes)
    {
        var selected = new List<Webhook>();
        Dictionary<string, object?>? activation = null;
        foreach (var webhook in webhooks)
        {
            if (!_matcher.Matches(webhook.Match, attributes))
            {
                continue;
            }

            if (!webhook.Conditions.IsEmpty)
            {
                activation ??= new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["object"] = CelValue.FromJson(attributes.Object),
                    ["oldObject"] = CelValue.FromJson(attributes.OldObject),
                    ["request"] = CelValue.FromJson(AdmissionRequest.Build(attributes, uid: null, withObjects: false)),
                    ["authorizer"] = new CelAuthorizerValue(new AdmissionAuthorizer(_authorizer.Value, attributes.User)),
                };
                var budget = AdmissionExpressions.MatchConditionsCostBudget;
                var matches = webhook.Conditions.Matches(activation, ref budget, out var error);
                if (error is not null)
                {
                    if (webhook.FailOpen)
                    {
                        LogFailedOpen(_logger, webhook.Name, error);
                        continue;
                    }

                    throw CallFailed(webhook, new WebhookCallException(error));
                }

                if (!matches)
                {
                    continue;
                }
            }

            if (attributes.DryRun && !webhook.DryRunSafe)
            {
                throw StatusError.BadRequest($"admission webhook \"{webhook.Name}\" does not support dry run");
            }

            selected.Add(webhook);
        }

        return selected;
    }

    /// <summary>Posts the AdmissionReview and returns its response; failures are <see cref="WebhookCallException"/>s.</summary>
    public async Task<JsonObject> CallAsync(Webhook webhook, AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var uid = Guid.NewGuid().ToString();
        var review = Review(uid, attributes);
        JsonObject? answer;
        try
        {
            answer = await _client.PostAsync(webhook.Address, webhook.CaBundle, webhook.Timeout, review, cancellationToken).ConfigureAwait(false) as JsonObject;
        }
        catch (WebhookCallException e)
        {
            throw new WebhookCallException($"failed to call webhook: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new WebhookCallException($"received invalid webhook response: {e.Message}", e);
        }

        if (answer?["response"] is not JsonObject result)
        {
            throw new WebhookCallException("received invalid webhook response: response is nil");
        }

        if ((string?)answer["apiVersion"] != "admission.k8s.io/v1" || (string?)answer["kind"] != "AdmissionReview")
        {
            throw new WebhookCallException($"received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {(string?)answer["apiVersion"]}, Kind={(string?)answer["kind"]}");
        }

        if ((string?)result["uid"] != uid)
        {
            throw new WebhookCallException($"received invalid webhook response: expected response.uid=\"{uid}\", got \"{(string?)result["uid"]}\"");
        }

        foreach (var warning in (result["warnings"] as JsonArray)?.Select(w => (string?)w).OfType<string>() ?? [])
        {
            if (warning.Length > 0)
            {
                attributes.Context.Warn(warning);
            }
        }

        // Each annotation is recorded under the webhook's name, so webhooks never overwrite each other's.
        foreach (var (key, value) in result["auditAnnotations"] as JsonObject ?? [])
        {
            if (value?.GetValueKind() == JsonValueKind.String && key.Length > 0)
            {
                attributes.Context.AddAuditAnnotation($"{webhook.Name}/{key}", (string)value!);
            }
        }

        return result;
    }

    /// <summary>Upstream's refusal: the webhook's Status, its message prefixed with the webhook's name, code 400 or more.</summary>
    public static StatusError Denied(Webhook webhook, JsonObject response)
    {
        var status = response["status"] as JsonObject;
        var code = (int?)JsonNumber.Int64(status?["code"]) ?? 0;
        if (code < 400)
        {
            code = 400;
        }

        var deniedBy = $"admission webhook \"{webhook.Name}\" denied the request";
        var message = (string?)status?["message"] is { Length: > 0 } text ? $"{deniedBy}: {text}"
            : (string?)status?["reason"] is { Length: > 0 } reason ? $"{deniedBy}: {reason}"
            : $"{deniedBy} without explanation";
        var causes = (status?["details"]?["causes"] as JsonArray)?.OfType<JsonObject>()
            .Select(c => new StatusCause((string?)c["reason"] ?? string.Empty, (string?)c["message"] ?? string.Empty, (string?)c["field"] ?? string.Empty))
            .ToArray();
        return new StatusError(code, (string?)status?["reason"] ?? string.Empty, message, causes: causes);
    }

    /// <summary>A call failure under failurePolicy Fail: 500, as upstream.</summary>
    public static StatusError CallFailed(Webhook webhook, WebhookCallException failure) =>
        new(500, "InternalError", $"Internal error occurred: failed calling webhook \"{webhook.Name}\": {failure.Message}");

    private static JsonObject Review(string uid, AdmissionAttributes attributes) => new()
    {
        ["kind"] = "AdmissionReview",
        ["apiVersion"] = "admission.k8s.io/v1",
        ["request"] = AdmissionRequest.Build(attributes, uid, withObjects: true),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed calling webhook {Webhook}, failing open: {Reason}")]
    public static partial void LogFailedOpen(ILogger logger, string webhook, string reason);
}
