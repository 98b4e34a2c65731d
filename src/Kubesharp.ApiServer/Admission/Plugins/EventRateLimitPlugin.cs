using Kubesharp.ApiServer.Admission.Plugins.EventRateLimits;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// Upstream's EventRateLimit (off unless enabled): creates and updates of core Events beyond the configured rates
/// get 429. Every limit takes its token, so a request refused by one still counts against the others, as upstream.
/// Dry runs are not counted: they write nothing.
/// </summary>
internal sealed class EventRateLimitPlugin(IReadOnlyList<EventLimit> limits, TimeProvider time) : IValidatingAdmissionPlugin
{
    private readonly EventLimitEnforcer[] _enforcers = [.. limits.Select(l => new EventLimitEnforcer(l, time))];

    public string Name => "EventRateLimit";

    public bool Handles(AdmissionAttributes attributes) =>
        attributes.Operation is AdmissionOperation.Create or AdmissionOperation.Update &&
        attributes.Kind.Group.Length == 0 && attributes.Kind.Kind == "Event" && !attributes.DryRun;

    public ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var refusals = _enforcers.Select(e => e.Accept(attributes)).OfType<string>().ToList();
        if (refusals.Count > 0)
        {
            var message = refusals.Count == 1 ? refusals[0] : "[" + string.Join(", ", refusals) + "]";
            throw new Http.StatusError(429, "TooManyRequests", "Too many requests: " + message);
        }

        return ValueTask.CompletedTask;
    }
}
