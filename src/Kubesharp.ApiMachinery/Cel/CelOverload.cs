namespace Kubesharp.ApiMachinery.Cel;

/// <summary>How a function's run-time cost grows: constant, or with the size of its arguments (strings, lists).</summary>
internal enum CelCost
{
    Constant,
    /// <summary>A tenth of the receiver's (first argument's) size, as cel-go prices string scans.</summary>
    LinearInFirst,
    /// <summary>A tenth of all arguments' sizes together (concatenation, regular expressions).</summary>
    LinearInAll,
    /// <summary>One per element of the receiver (list traversals).</summary>
    PerElement,
}

/// <summary>One overload of a CEL function: its parameter types, result type and implementation.</summary>
internal sealed record CelOverload(
    string Function,
    bool Member,
    CelType[] Parameters,
    Func<IReadOnlyList<CelType>, CelType> Result,
    Func<object?[], object?> Invoke,
    CelCost Cost = CelCost.Constant)
{
    public bool AcceptsStatic(IReadOnlyList<CelType> args)
    {
        if (args.Count != Parameters.Length)
        {
            return false;
        }

        for (var i = 0; i < args.Count; i++)
        {
            if (!Parameters[i].Accepts(args[i]))
            {
                return false;
            }
        }

        return true;
    }

    public bool AcceptsValues(object?[] args)
    {
        if (args.Length != Parameters.Length)
        {
            return false;
        }

        for (var i = 0; i < args.Length; i++)
        {
            if (!AcceptsValue(Parameters[i], args[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AcceptsValue(CelType parameter, object? value) => parameter.Kind switch
    {
        CelTypeKind.Dyn => true,
        CelTypeKind.List => value is IReadOnlyList<object?>,
        CelTypeKind.Map or CelTypeKind.Object => value is CelMapValue,
        CelTypeKind.Optional => value is CelOptional,
        CelTypeKind.Null => value is null,
        CelTypeKind.Opaque => value is ICelOpaqueValue opaque && opaque.Type.Name == parameter.Name,
        _ => CelValue.TypeOf(value).Kind == parameter.Kind,
    };
}
