namespace Kubesharp.ApiMachinery.Cel;

/// <summary>An expression failed at run time (no such key, overflow, no such overload, cost limit, ...), worded as upstream's CEL.</summary>
public sealed class CelEvaluationException : Exception
{
    public CelEvaluationException()
    {
    }

    public CelEvaluationException(string message)
        : base(message)
    {
    }

    public CelEvaluationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The evaluation was stopped because it used up its cost limit.</summary>
    public bool CostLimitExceeded { get; init; }

    internal static CelEvaluationException NoSuchOverload(string function) => new($"no such overload: {function}");
}
