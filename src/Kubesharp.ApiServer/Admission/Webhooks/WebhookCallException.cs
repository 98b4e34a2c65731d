namespace Kubesharp.ApiServer.Admission.Webhooks;

/// <summary>A webhook could not be called or answered nonsense; failurePolicy decides what follows.</summary>
internal sealed class WebhookCallException(string message, Exception? inner = null) : Exception(message, inner);
