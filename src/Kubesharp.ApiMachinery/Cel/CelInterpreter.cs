namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// Evaluates a checked expression over an activation, counting cost as it goes (one per node visited, plus the
/// size-dependent cost of string and list functions); past the limit it stops with upstream's cost error.
/// </summary>
internal sealed class CelInterpreter(IReadOnlyDictionary<string, object?> activation, long costLimit)
{
    private readonly Dictionary<string, object?> _locals = new(StringComparer.Ordinal);

    public long Cost { get; private set; }

    public object? Evaluate(CelExpr expr)
    {
        Charge(1);
        switch (expr)
        {
            case CelLiteral literal:
                return literal.Value;
            case CelIdent ident:
                return Lookup(ident.Name);
            case CelSelect select:
                return Select(select);
            case CelIndex index:
                return Index(index);
            case CelList list:
                return list.Elements.Select(Evaluate).ToList();
            case CelMap map:
                var entries = new Dictionary<object, object?>();
                foreach (var (keyExpr, valueExpr) in map.Entries)
                {
                    var key = Evaluate(keyExpr);
                    if (key is not (string or long or ulong or bool))
                    {
                        throw new CelEvaluationException("unsupported key type");
                    }

                    if (!entries.TryAdd(CelValue.NormalizeKey(key), Evaluate(valueExpr)))
                    {
                        throw new CelEvaluationException($"Failed with repeated key: {CelValue.Format(key)}");
                    }
                }

                return new CelDictionaryMap(entries);
            case CelStruct created:
                var fields = new Dictionary<object, object?>();
                foreach (var (field, valueExpr) in created.Fields)
                {
                    if (!fields.TryAdd(field, Evaluate(valueExpr)))
                    {
                        throw new CelEvaluationException($"Failed with repeated key: {field}");
                    }
                }

                return new CelDictionaryMap(fields);
            case CelComprehension comprehension:
                return Comprehend(comprehension);
            case CelCall call:
                return Call(call);
            default:
                throw new CelEvaluationException("unknown expression");
        }
    }

    private void Charge(long amount)
    {
        Cost += amount;
        if (Cost > costLimit)
        {
            throw new CelEvaluationException("operation cancelled: actual cost limit exceeded") { CostLimitExceeded = true };
        }
    }

    private object? Lookup(string name)
    {
        if (_locals.TryGetValue(name, out var local))
        {
            return local;
        }

        if (activation.TryGetValue(name, out var value))
        {
            return value;
        }

        return CelLibrary.TypeByName(name) ?? throw new CelEvaluationException($"no such attribute: {name}");
    }

    private object? Select(CelSelect select)
    {
        var operand = Evaluate(select.Operand);
        if (operand is CelOptional optional)
        {
            if (!optional.HasValue)
            {
                return select.TestOnly ? false : CelOptional.None;
            }

            operand = optional.Value;
            var inner = SelectField(operand, select.Field, testOnly: select.TestOnly, optional: true);
            return select.TestOnly ? inner : inner is CelOptional ? inner : CelOptional.Of(inner);
        }

        return SelectField(operand, select.Field, select.TestOnly, select.Optional);
    }

    private static object? SelectField(object? operand, string field, bool testOnly, bool optional)
    {
        if (operand is not CelMapValue map)
        {
            throw new CelEvaluationException(operand is null ? $"no such key: {field}" : $"type '{CelValue.TypeOf(operand).Name}' does not support field selection");
        }

        var key = map is CelJsonMap ? CelValue.UnescapeFieldName(field) : field;
        var found = map.TryGetValue(key, out var value);
        if (testOnly)
        {
            return found;
        }

        if (optional)
        {
            return found ? CelOptional.Of(value) : CelOptional.None;
        }

        return found ? value : throw new CelEvaluationException($"no such key: {field}");
    }

    private object? Index(CelIndex index)
    {
        var operand = Evaluate(index.Operand);
        var key = Evaluate(index.Key);
        var wrapped = false;
        if (operand is CelOptional optional)
        {
            if (!optional.HasValue)
            {
                return CelOptional.None;
            }

            operand = optional.Value;
            wrapped = true;
        }

        object? result;
        switch (operand)
        {
            case IReadOnlyList<object?> list:
                var position = key switch
                {
                    long l => l,
                    ulong u => u > long.MaxValue ? -1 : (long)u,
                    double d when d == Math.Floor(d) => (long)d,
                    _ => throw CelEvaluationException.NoSuchOverload("_[_]"),
                };
                if (position < 0 || position >= list.Count)
                {
                    if (index.Optional)
                    {
                        return CelOptional.None;
                    }

                    throw new CelEvaluationException($"index out of bounds: {position}");
                }

                result = list[(int)position];
                break;
            case CelMapValue map:
                if (key is null || !map.TryGetValue(key, out result))
                {
                    if (index.Optional)
                    {
                        return CelOptional.None;
                    }

                    throw new CelEvaluationException($"no such key: {CelValue.Format(key)}");
                }

                break;
            default:
                throw CelEvaluationException.NoSuchOverload("_[_]");
        }

        return index.Optional || wrapped ? CelOptional.Of(result) : result;
    }

    private object? Comprehend(CelComprehension comprehension)
    {
        var range = Evaluate(comprehension.Range);
        IEnumerable<object?> items = range switch
        {
            IReadOnlyList<object?> list => list,
            CelMapValue map => map.Keys.Cast<object?>(),
            _ => throw CelEvaluationException.NoSuchOverload(comprehension.Kind.ToString().ToLowerInvariant()),
        };
        var hadOuter = _locals.TryGetValue(comprehension.Variable, out var outer);
        try
        {
            switch (comprehension.Kind)
            {
                case CelMacroKind.All or CelMacroKind.Exists:
                    var target = comprehension.Kind == CelMacroKind.Exists;
                    CelEvaluationException? pending = null;
                    foreach (var item in items)
                    {
                        Charge(1);
                        _locals[comprehension.Variable] = item;
                        try
                        {
                            if (Truth(Evaluate(comprehension.Body), "all") == target)
                            {
                                return target;
                            }
                        }
                        catch (CelEvaluationException ex) when (!ex.CostLimitExceeded)
                        {
                            // As && and ||: an error counts only when no element decides the result.
                            pending ??= ex;
                        }
                    }

                    return pending is null ? !target : throw pending;
                case CelMacroKind.ExistsOne:
                    var count = 0;
                    foreach (var item in items)
                    {
                        Charge(1);
                        _locals[comprehension.Variable] = item;
                        if (Truth(Evaluate(comprehension.Body), "exists_one"))
                        {
                            count++;
                        }
                    }

                    return count == 1;
                case CelMacroKind.Map:
                    var mapped = new List<object?>();
                    foreach (var item in items)
                    {
                        Charge(1);
                        _locals[comprehension.Variable] = item;
                        if (comprehension.Transform is { } filter && !Truth(Evaluate(filter), "map"))
                        {
                            continue;
                        }

                        mapped.Add(Evaluate(comprehension.Body));
                    }

                    return mapped;
                default:
                    var kept = new List<object?>();
                    foreach (var item in items)
                    {
                        Charge(1);
                        _locals[comprehension.Variable] = item;
                        if (Truth(Evaluate(comprehension.Body), "filter"))
                        {
                            kept.Add(item);
                        }
                    }

                    return kept;
            }
        }
        finally
        {
            if (hadOuter)
            {
                _locals[comprehension.Variable] = outer;
            }
            else
            {
                _locals.Remove(comprehension.Variable);
            }
        }
    }

    private static bool Truth(object? value, string function) => value as bool? ?? throw CelEvaluationException.NoSuchOverload(function);

    private object? Call(CelCall call)
    {
        switch (call.Function)
        {
            case "_&&_" or "_||_":
                return Logical(call, call.Function == "_||_");
            case "_?_:_":
                return Truth(Evaluate(call.Args[0]), "_?_:_") ? Evaluate(call.Args[1]) : Evaluate(call.Args[2]);
            case "_==_" or "_!=_":
                var left = Evaluate(call.Args[0]);
                var right = Evaluate(call.Args[1]);
                ChargeSize(left);
                return CelValue.Equals(left, right) == (call.Function == "_==_");
            case "_<_" or "_<=_" or "_>_" or "_>=_":
                var order = CelOperators.Compare(Evaluate(call.Args[0]), Evaluate(call.Args[1]), call.Function);
                return call.Function switch
                {
                    "_<_" => order < 0,
                    "_<=_" => order <= 0,
                    "_>_" => order is > 0 and < 2,
                    _ => order is >= 0 and < 2,
                };
            case "@in":
                var value = Evaluate(call.Args[0]);
                var container = Evaluate(call.Args[1]);
                ChargeSize(container);
                return CelOperators.In(value, container);
        }

        var args = new object?[call.Args.Count + (call.Target is null ? 0 : 1)];
        var offset = 0;
        if (call.Target is not null)
        {
            args[0] = Evaluate(call.Target);
            offset = 1;
        }

        for (var i = 0; i < call.Args.Count; i++)
        {
            args[i + offset] = Evaluate(call.Args[i]);
        }

        if (CelLibrary.Functions.TryGetValue(call.Function, out var overloads))
        {
            foreach (var overload in overloads)
            {
                if (overload.Member == (call.Target is not null) && overload.AcceptsValues(args))
                {
                    ChargeFor(overload.Cost, args);
                    return overload.Invoke(args);
                }
            }
        }

        throw CelEvaluationException.NoSuchOverload(call.Function);
    }

    private object? Logical(CelCall call, bool or)
    {
        CelEvaluationException? pending = null;
        foreach (var arg in call.Args)
        {
            try
            {
                if (Truth(Evaluate(arg), or ? "_||_" : "_&&_") == or)
                {
                    return or;
                }
            }
            catch (CelEvaluationException ex) when (!ex.CostLimitExceeded)
            {
                // CEL's logic is commutative: an error is the answer only when the other side does not decide it.
                pending ??= ex;
            }
        }

        return pending is null ? !or : throw pending;
    }

    private void ChargeFor(CelCost cost, object?[] args)
    {
        switch (cost)
        {
            case CelCost.LinearInFirst:
                Charge(Size(args[0]) / 10);
                break;
            case CelCost.LinearInAll:
                Charge(args.Sum(Size) / 10);
                break;
            case CelCost.PerElement:
                Charge(Size(args[0]));
                break;
        }
    }

    private void ChargeSize(object? value)
    {
        if (value is string or byte[] or IReadOnlyList<object?> or CelMapValue)
        {
            Charge(Size(value) / 10);
        }
    }

    private static long Size(object? value) => value switch
    {
        string s => s.Length,
        byte[] b => b.Length,
        IReadOnlyList<object?> l => l.Count,
        CelMapValue m => m.Count,
        _ => 1,
    };
}
