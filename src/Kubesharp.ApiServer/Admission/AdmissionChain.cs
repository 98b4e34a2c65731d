namespace Kubesharp.ApiServer.Admission;

/// <summary>
/// The admission stages of a write, in upstream's plugin order. <see cref="MutateAsync"/> runs the mutating plugins
/// (built-in ones, then the mutating webhooks); the registry then validates the object against its kind;
/// <see cref="ValidateAsync"/> runs the validating plugins (built-in ones, the validating webhooks, then
/// ResourceQuota, which charges the quota last so that a refusal elsewhere charges nothing). A plugin refuses by
/// throwing a StatusError.
/// </summary>
internal sealed partial class AdmissionChain(IReadOnlyList<IMutatingAdmissionPlugin> mutating, IReadOnlyList<IValidatingAdmissionPlugin> validating)
{
    public IEnumerable<string> PluginNames => mutating.Select(p => p.Name).Concat(validating.Select(p => p.Name)).Distinct(StringComparer.Ordinal);

    public async ValueTask MutateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        for (var i = 0; i < mutating.Count; i++)
        {
            var plugin = mutating[i];
            if (!plugin.Handles(attributes))
            {
                continue;
            }

            await plugin.AdmitAsync(attributes, cancellationToken).ConfigureAwait(false);
            if (attributes.ReinvokeBuiltins)
            {
                // A webhook changed the object: the built-in plugins before it see it once more (upstream's reinvocation).
                attributes.ReinvokeBuiltins = false;
                for (var j = 0; j < i; j++)
                {
                    if (mutating[j] is not IWebhookPlugin && mutating[j].Handles(attributes))
                    {
                        await mutating[j].AdmitAsync(attributes, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
    }

    public async ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        foreach (var plugin in validating)
        {
            if (plugin.Handles(attributes))
            {
                await plugin.ValidateAsync(attributes, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
