using Kubesharp.ApiMachinery.Cel;

namespace Kubesharp.ApiServer.Admission.Cel;

/// <summary>
/// A policy's <c>variables</c>: each is evaluated the first time an expression reads it and remembered for the
/// rest of the request, and may read the variables declared before it (upstream's composited variables).
/// </summary>
internal sealed class CelVariables : CelMapValue
{
    private readonly IReadOnlyList<(string Name, CompiledExpression Expression)> _declared;
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _failures = new(StringComparer.Ordinal);
    private Dictionary<string, object?> _activation = new(StringComparer.Ordinal);
    private long _budget;

    public CelVariables(IReadOnlyList<(string Name, CompiledExpression Expression)> declared) => _declared = declared;

    /// <summary>Binds the variables to the values of one evaluation (the activation holds this map as <c>variables</c>).</summary>
    public void Bind(Dictionary<string, object?> activation, long budget)
    {
        _activation = activation;
        _budget = budget;
        _values.Clear();
        _failures.Clear();
    }

    public override int Count => _declared.Count;

    public override IEnumerable<object> Keys => _declared.Select(d => (object)d.Name);

    public override bool TryGetValue(object key, out object? value)
    {
        value = null;
        if (key is not string name)
        {
            return false;
        }

        if (_values.TryGetValue(name, out value))
        {
            return true;
        }

        if (_failures.TryGetValue(name, out var failure))
        {
            throw new AdmissionExpressionException(failure);
        }

        foreach (var (declared, expression) in _declared)
        {
            if (declared != name)
            {
                continue;
            }

            try
            {
                value = AdmissionExpressions.Evaluate(expression, _activation, ref _budget);
            }
            catch (AdmissionExpressionException e)
            {
                _failures[name] = e.Message;
                throw;
            }

            _values[name] = value;
            return true;
        }

        return false;
    }
}
