using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Patching;
using Kubesharp.ApiServer.Admission.Matching;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>
/// Upstream's MutatingAdmissionWebhook: the matching mutating webhooks are called one after another, each seeing
/// the object as the previous ones left it; JSON patches they return are applied. A webhook with reinvocationPolicy
/// IfNeeded is called once more when a later webhook changed the object after it.
/// </summary>
internal sealed class MutatingWebhookPlugin(WebhookDispatcher dispatcher, WebhookSource source) : IMutatingAdmissionPlugin, IWebhookPlugin
{
    public string Name => "MutatingAdmissionWebhook";

    public bool Handles(AdmissionAttributes attributes) => !AdmissionMatcher.IsExempt(attributes) && source.Current.Count > 0;

    public async ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var webhooks = dispatcher.Select(source.Current, attributes);
        if (webhooks.Count == 0)
        {
            return;
        }

        // Which webhooks ran, and whether the object changed since each did.
        var changedSince = new Dictionary<Webhook, bool>();
        var anyChange = false;
        foreach (var webhook in webhooks)
        {
            var changed = await CallAsync(webhook, attributes, cancellationToken).ConfigureAwait(false);
            foreach (var earlier in changedSince.Keys.ToList())
            {
                changedSince[earlier] |= changed;
            }

            changedSince[webhook] = false;
            anyChange |= changed;
        }

        if (!anyChange)
        {
            return;
        }

        attributes.ReinvokeBuiltins = true;
        foreach (var webhook in webhooks.Where(w => w.ReinvokeIfNeeded && changedSince[w]))
        {
            await CallAsync(webhook, attributes, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Calls one webhook; true when its patch changed the object.</summary>
    private async Task<bool> CallAsync(Webhook webhook, AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        JsonObject response;
        try
        {
            response = await dispatcher.CallAsync(webhook, attributes, cancellationToken).ConfigureAwait(false);
        }
        catch (WebhookCallException failure) when (webhook.FailOpen)
        {
            WebhookDispatcher.LogFailedOpen(dispatcher.Logger, webhook.Name, failure.Message);
            return false;
        }
        catch (WebhookCallException failure)
        {
            throw WebhookDispatcher.CallFailed(webhook, failure);
        }

        if ((bool?)response["allowed"] != true)
        {
            throw WebhookDispatcher.Denied(webhook, response);
        }

        if ((string?)response["patch"] is not { Length: > 0 } encoded || attributes.Object is null)
        {
            return false;
        }

        var patchType = (string?)response["patchType"];
        if (patchType != "JSONPatch")
        {
            return Fail(webhook, attributes, $"unsupported patch type \"{patchType}\"");
        }

        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(encoded)));
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            return Fail(webhook, attributes, $"received invalid webhook response: {e.Message}");
        }

        JsonObject patched;
        try
        {
            patched = JsonPatch.Apply(attributes.Object, patch) as JsonObject
                ?? throw new WebhookCallException("the patch did not produce an object");
        }
        catch (Exception e) when (e is Kubesharp.ApiMachinery.Errors.StatusException or WebhookCallException)
        {
            return Fail(webhook, attributes, e.Message);
        }

        if (JsonNode.DeepEquals(patched, attributes.Object))
        {
            return false;
        }

        attributes.Object = patched;
        return true;
    }

    /// <summary>A response that cannot be used counts as a failed call (failurePolicy applies), as upstream.</summary>
    private bool Fail(Webhook webhook, AdmissionAttributes attributes, string reason)
    {
        _ = attributes;
        if (webhook.FailOpen)
        {
            WebhookDispatcher.LogFailedOpen(dispatcher.Logger, webhook.Name, reason);
            return false;
        }

        throw WebhookDispatcher.CallFailed(webhook, new WebhookCallException(reason));
    }
}
