using Kubesharp.ApiMachinery.Cel;

namespace Kubesharp.ApiServer.Admission.Cel;

/// <summary>
/// The CEL environments of admission (upstream's admission plugin CEL): webhook match conditions see
/// <c>object</c>, <c>oldObject</c>, <c>request</c> and <c>authorizer</c>; admission policies also <c>params</c>,
/// <c>namespaceObject</c> and <c>variables</c>. The objects are dynamic, as they are read as JSON; the authorizer
/// is typed, so its library's functions check.
/// </summary>
internal static class AdmissionExpressions
{
    /// <summary>Upstream's runtime budgets: one policy evaluation, and one set of webhook match conditions.</summary>
    public const long RuntimeCostBudget = 10_000_000;
    public const long MatchConditionsCostBudget = 10_000_000;

    public static CelEnvironment Webhook { get; } = new(new Dictionary<string, CelType>(StringComparer.Ordinal)
    {
        ["object"] = CelType.Dyn,
        ["oldObject"] = CelType.Dyn,
        ["request"] = CelType.Dyn,
        ["authorizer"] = CelType.Authorizer,
    });

    public static CelEnvironment Policy { get; } = new(new Dictionary<string, CelType>(StringComparer.Ordinal)
    {
        ["object"] = CelType.Dyn,
        ["oldObject"] = CelType.Dyn,
        ["request"] = CelType.Dyn,
        ["params"] = CelType.Dyn,
        ["namespaceObject"] = CelType.Dyn,
        ["variables"] = CelType.Dyn,
        ["authorizer"] = CelType.Authorizer,
    });

    /// <summary>
    /// Evaluates one expression, charging <paramref name="budget"/>; a failure is an <see cref="AdmissionExpressionException"/>
    /// worded as upstream's (<c>expression '...' resulted in error: ...</c>).
    /// </summary>
    public static object? Evaluate(CompiledExpression expression, IReadOnlyDictionary<string, object?> activation, ref long budget)
    {
        if (expression.Program is null)
        {
            throw new AdmissionExpressionException($"compilation error: {expression.Error}");
        }

        if (budget <= 0)
        {
            throw new AdmissionExpressionException("validation failed due to running out of cost budget, no further validation rules will be run");
        }

        try
        {
            var result = expression.Program.Evaluate(activation, budget, out var cost);
            budget -= cost;
            return result;
        }
        catch (CelEvaluationException e) when (e.CostLimitExceeded)
        {
            budget = 0;
            throw new AdmissionExpressionException($"expression '{expression.Text}' resulted in error: operation cancelled: actual cost limit exceeded");
        }
        catch (CelEvaluationException e)
        {
            throw new AdmissionExpressionException($"expression '{expression.Text}' resulted in error: {e.Message}");
        }
        catch (AdmissionExpressionException e)
        {
            // A variable the expression read failed: the error names the expression that failed first.
            throw new AdmissionExpressionException(e.Message);
        }
    }
}

/// <summary>An admission expression that failed to evaluate, with upstream's message.</summary>
internal sealed class AdmissionExpressionException(string message) : Exception(message);

/// <summary>One expression of a policy or webhook as written, and its program (or the compiler's complaint).</summary>
internal sealed record CompiledExpression(string Text, CelProgram? Program, string? Error)
{
    public static CompiledExpression Compile(CelEnvironment environment, string text)
    {
        var compiled = environment.Compile(text);
        return new CompiledExpression(text, compiled.Program, compiled.Error);
    }
}
