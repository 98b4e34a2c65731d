using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>CronJobs: upstream's defaults (Allow, not suspended, keep 3 successful and 1 failed Job) and checks.</summary>
internal sealed partial class CronJobStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override void ApplySchemeDefaults(JsonObject obj)
    {
        if (obj["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"] is JsonObject podSpec)
        {
            PodSpecDefaults.ForTemplate(podSpec);
        }
    }

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        DefaultSpec(Ensure(obj, "spec"));
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        DefaultSpec(Ensure(updated, "spec"));
    }

    private static void DefaultSpec(JsonObject spec)
    {
        Default(spec, "concurrencyPolicy", "Allow");
        Default(spec, "suspend", false);
        Default(spec, "successfulJobsHistoryLimit", 3);
        Default(spec, "failedJobsHistoryLimit", 1);
        if (spec["jobTemplate"]?["spec"]?["template"]?["spec"] is JsonObject podSpec)
        {
            PodSpecDefaults.ForTemplate(podSpec);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        var schedule = (string?)spec?["schedule"];
        if (string.IsNullOrEmpty(schedule))
        {
            causes.Add(Required("spec.schedule"));
        }
        else
        {
            if (CronScheduleFormat.Error(schedule) is { } error)
            {
                causes.Add(Invalid("spec.schedule", schedule, error));
            }

            // A zone inside the schedule is refused on new schedules; one already stored may stay, but not beside spec.timeZone.
            var zoneAllowed = ((string?)old?["spec"]?["schedule"])?.Contains("TZ", StringComparison.Ordinal) == true;
            if (schedule.Contains("TZ", StringComparison.Ordinal))
            {
                if (!zoneAllowed)
                {
                    causes.Add(Invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
                }
                else if (spec?["timeZone"] is not null)
                {
                    causes.Add(Invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
                }
            }
        }

        var policy = (string?)spec?["concurrencyPolicy"];
        if (policy is not ("Allow" or "Forbid" or "Replace"))
        {
            causes.Add(Unsupported("spec.concurrencyPolicy", policy ?? string.Empty, ["Allow", "Forbid", "Replace"]));
        }

        var zone = (string?)spec?["timeZone"];
        if (zone is not null && (old is null || zone != (string?)old["spec"]?["timeZone"]))
        {
            ValidateTimeZone(zone, causes);
        }

        if (spec?["startingDeadlineSeconds"] is JsonValue d && d.TryGetValue<long>(out var deadline) && deadline < 0)
        {
            causes.Add(Invalid("spec.startingDeadlineSeconds", deadline.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be greater than or equal to 0"));
        }

        if (spec?["jobTemplate"]?["spec"]?["template"]?["spec"] is not JsonObject podSpec)
        {
            causes.Add(Required("spec.jobTemplate.spec.template.spec.containers"));
            return;
        }

        PodStrategy.ValidatePodSpec(podSpec, "spec.jobTemplate.spec.template.spec", causes);
        var restart = (string?)podSpec["restartPolicy"];
        if (restart is not ("Never" or "OnFailure"))
        {
            causes.Add(Unsupported("spec.jobTemplate.spec.template.spec.restartPolicy", restart ?? string.Empty, ["OnFailure", "Never"]));
        }
    }

    /// <summary>An IANA name: path parts of the allowed characters, not "Local", and known to the zone database.</summary>
    private static void ValidateTimeZone(string zone, List<StatusCause> causes)
    {
        if (zone.Length == 0)
        {
            causes.Add(Invalid("spec.timeZone", zone, "timeZone must be nil or non-empty string"));
            return;
        }

        if (zone.Split('/').Any(part => part is "." or ".." || part.StartsWith('-') || !TimeZonePart().IsMatch(part)))
        {
            causes.Add(Invalid("spec.timeZone", zone, "unknown time zone " + zone));
            return;
        }

        if (string.Equals(zone, "Local", StringComparison.OrdinalIgnoreCase))
        {
            causes.Add(Invalid("spec.timeZone", zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
        }

        if (!CronScheduleFormat.IsKnownZone(zone) && !string.Equals(zone, "Local", StringComparison.OrdinalIgnoreCase))
        {
            causes.Add(Invalid("spec.timeZone", zone, "unknown time zone " + zone));
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z.\-_0-9+]{1,14}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex TimeZonePart();
}
