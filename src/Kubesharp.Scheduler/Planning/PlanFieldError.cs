namespace Kubesharp.Scheduler.Planning;

/// <summary>A field of a SchedulingPlan that is wrong, with upstream's cause type (FieldValueRequired, FieldValueInvalid, ...).</summary>
public sealed record PlanFieldError(string Type, string Field, string Message);
