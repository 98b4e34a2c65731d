namespace Kubesharp.ApiServer.Admission;

/// <summary>Marks the plugins that call out to webhooks (never reinvoked as built-ins).</summary>
internal interface IWebhookPlugin : IAdmissionPlugin
{
}
