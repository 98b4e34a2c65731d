namespace Kubesharp.ApiServer.Admission;

/// <summary>
/// The admission stages of a write, in upstream's plugin order. <see cref="MutateAsync"/> runs the mutating plugins
/// (built-in ones, then the mutating webhooks); the registry then validates the object against its kind;
/// <see cref="ValidateAsync"/> runs the validating plugins (built-in ones, the validating webhooks, then
/// ResourceQuota, which charges the quota last so that a refusal elsewhere charges nothing). A plugin refuses by
/// throwing a StatusError.
/// </summary>
internal sealed partial class AdmissionChain
{
    private readonly IMutatingAdmissionPlugin[] _mutating;
    private readonly IValidatingAdmissionPlugin[] _validating;

    /// <summary>A chain of the given plugins that <paramref name="selection"/> enables (null entries are plugins not built).</summary>
    public AdmissionChain(IEnumerable<IMutatingAdmissionPlugin?> mutating, IEnumerable<IValidatingAdmissionPlugin?> validating, AdmissionPluginSelection? selection = null)
    {
        _mutating = [.. mutating.OfType<IMutatingAdmissionPlugin>().Where(p => selection?.IsEnabled(p.Name) ?? true)];
        _validating = [.. validating.OfType<IValidatingAdmissionPlugin>().Where(p => selection?.IsEnabled(p.Name) ?? true)];
    }

    public IEnumerable<string> PluginNames => _mutating.Select(p => p.Name).Concat(_validating.Select(p => p.Name)).Distinct(StringComparer.Ordinal);

    public async ValueTask MutateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        for (var i = 0; i < _mutating.Length; i++)
        {
            var plugin = _mutating[i];
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
                    if (_mutating[j] is not IWebhookPlugin && _mutating[j].Handles(attributes))
                    {
                        await _mutating[j].AdmitAsync(attributes, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
    }

    public async ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        foreach (var plugin in _validating)
        {
            if (plugin.Handles(attributes))
            {
                await plugin.ValidateAsync(attributes, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
