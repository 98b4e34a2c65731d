namespace Kubesharp.ApiMachinery.Cel;

/// <summary>Ordering and membership, shared by the interpreter and the list library.</summary>
internal static class CelOperators
{
    /// <summary>Orders two values of one orderable kind (numbers across kinds); anything else is "no such overload".</summary>
    public static int Compare(object? a, object? b, string function)
    {
        if (CelValue.IsNumber(a) && CelValue.IsNumber(b))
        {
            // NaN compares false both ways; reporting it as "after" makes <, <= and isSorted false.
            return CelValue.CompareNumbers(a!, b!) ?? 2;
        }

        return (a, b) switch
        {
            (string x, string y) => Math.Sign(string.CompareOrdinal(x, y)),
            (bool x, bool y) => x.CompareTo(y),
            (byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y),
            (DateTimeOffset x, DateTimeOffset y) => x.CompareTo(y),
            (TimeSpan x, TimeSpan y) => x.CompareTo(y),
            _ => throw CelEvaluationException.NoSuchOverload(function),
        };
    }

    public static bool In(object? value, object? container) => container switch
    {
        IReadOnlyList<object?> list => list.Any(item => CelValue.Equals(item, value)),
        CelMapValue map => value is not null && map.TryGetValue(value, out _),
        _ => throw CelEvaluationException.NoSuchOverload("@in"),
    };
}
