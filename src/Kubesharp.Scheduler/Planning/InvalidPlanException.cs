namespace Kubesharp.Scheduler.Planning;

/// <summary>A SchedulingPlan the planner cannot evaluate; the API server answers 422 Invalid with these causes.</summary>
public sealed class InvalidPlanException : Exception
{
    public InvalidPlanException()
        : this([])
    {
    }

    public InvalidPlanException(string message)
        : this([new PlanFieldError("FieldValueInvalid", "spec", message)])
    {
    }

    public InvalidPlanException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new PlanFieldError("FieldValueInvalid", "spec", message)];
    }

    public InvalidPlanException(IReadOnlyList<PlanFieldError> errors)
        : base(string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")))
    {
        Errors = errors;
    }

    public IReadOnlyList<PlanFieldError> Errors { get; }
}
