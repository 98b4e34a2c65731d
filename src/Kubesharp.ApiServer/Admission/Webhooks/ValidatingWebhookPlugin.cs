using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// Upstream's ValidatingAdmissionWebhook: the matching validating webhooks are called in parallel on the object as
/// it will be stored; the first refusal (in webhook order) fails the request.
/// </summary>
internal sealed class ValidatingWebhookPlugin(WebhookDispatcher dispatcher, WebhookSource source) : IValidatingAdmissionPlugin, IWebhookPlugin
{
    public string Name => "ValidatingAdmissionWebhook";

    public bool Handles(AdmissionAttributes attributes) => !AdmissionMatcher.IsExempt(attributes) && source.Current.Count > 0;

    public async ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var webhooks = dispatcher.Select(source.Current, attributes);
        if (webhooks.Count == 0)
        {
            return;
        }

        var outcomes = await Task.WhenAll(webhooks.Select(w => CallAsync(w, attributes, cancellationToken))).ConfigureAwait(false);
        foreach (var refusal in outcomes)
        {
            if (refusal is not null)
            {
                throw refusal;
            }
        }
    }

    private async Task<StatusError?> CallAsync(Webhook webhook, AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        JsonObject response;
        try
        {
            response = await dispatcher.CallAsync(webhook, attributes, cancellationToken).ConfigureAwait(false);
        }
        catch (WebhookCallException failure) when (webhook.FailOpen)
        {
            WebhookDispatcher.LogFailedOpen(dispatcher.Logger, webhook.Name, failure.Message);
            return null;
        }
        catch (WebhookCallException failure)
        {
            return WebhookDispatcher.CallFailed(webhook, failure);
        }

        return (bool?)response["allowed"] == true ? null : WebhookDispatcher.Denied(webhook, response);
    }
}
