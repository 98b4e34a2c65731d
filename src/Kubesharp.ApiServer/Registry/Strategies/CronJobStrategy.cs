using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>CronJobs: upstream's defaults (Allow, not suspended, keep 3 successful and 1 failed Job) and checks.</summary>
internal sealed class CronJobStrategy(ApiResource resource) : ResourceStrategy(resource)
{
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
            PodStrategy.DefaultPodSpec(podSpec);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        var schedule = (string?)spec?["schedule"];
        if (string.IsNullOrWhiteSpace(schedule))
        {
            causes.Add(Required("spec.schedule"));
        }

        var policy = (string?)spec?["concurrencyPolicy"];
        if (policy is not ("Allow" or "Forbid" or "Replace"))
        {
            causes.Add(Unsupported("spec.concurrencyPolicy", policy ?? string.Empty, ["Allow", "Forbid", "Replace"]));
        }

        if ((string?)spec?["timeZone"] is { } zone)
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _) || zone.Length == 0 || zone.Contains(' ', StringComparison.Ordinal))
            {
                causes.Add(Invalid("spec.timeZone", zone, "unknown time zone " + zone));
            }
            else if (schedule?.Contains("TZ", StringComparison.Ordinal) == true)
            {
                causes.Add(Invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
            }
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
}
