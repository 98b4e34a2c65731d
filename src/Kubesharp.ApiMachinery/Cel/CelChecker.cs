namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// Type-checks a parsed expression against the declared variables (undeclared names, undefined fields and calls
/// without a matching overload fail as upstream's checker words them) and estimates its worst-case cost from the
/// declared sizes (maxItems, maxLength, maxProperties, else what fits in a request).
/// </summary>
internal sealed class CelChecker(IReadOnlyDictionary<string, CelType> variables)
{
    private readonly Dictionary<string, CelType> _locals = new(StringComparer.Ordinal);

    public HashSet<string> Referenced { get; } = new(StringComparer.Ordinal);

    public (CelType Type, double Cost) Check(CelExpr expr)
    {
        switch (expr)
        {
            case CelLiteral literal:
                return (CelValue.TypeOf(literal.Value) is var t && literal.Value is string s ? CelType.StringOfLength(s.Length) : t, 0);
            case CelIdent ident:
                return (Lookup(ident), 1);
            case CelSelect select:
                return CheckSelect(select);
            case CelIndex index:
                return CheckIndex(index);
            case CelList list:
                var elements = list.Elements.Select(Check).ToList();
                var element = elements.Count > 0 && elements.All(e => e.Type.Name == elements[0].Type.Name) ? elements[0].Type : CelType.Dyn;
                return (CelType.List(element, list.Elements.Count), 10 + elements.Sum(e => e.Cost));
            case CelMap map:
                var cost = 30.0;
                CelType? keyType = null;
                CelType? valueType = null;
                foreach (var (k, v) in map.Entries)
                {
                    var key = Check(k);
                    var value = Check(v);
                    keyType = keyType is null || keyType.Name == key.Type.Name ? key.Type : CelType.Dyn;
                    valueType = valueType is null || valueType.Name == value.Type.Name ? value.Type : CelType.Dyn;
                    cost += key.Cost + value.Cost;
                }

                return (CelType.Map(keyType ?? CelType.Dyn, valueType ?? CelType.Dyn, map.Entries.Count), cost);
            case CelStruct created:
                // Messages are read as maps of their fields; their fields are not typed.
                return (CelType.Dyn, 40 + created.Fields.Sum(f => Check(f.Value).Cost));
            case CelComprehension comprehension:
                return CheckComprehension(comprehension);
            case CelCall call:
                return CheckCall(call);
            default:
                throw new CelCompileException("unknown expression", expr.Position);
        }
    }

    private CelType Lookup(CelIdent ident)
    {
        if (_locals.TryGetValue(ident.Name, out var local))
        {
            return local;
        }

        if (variables.TryGetValue(ident.Name, out var declared))
        {
            Referenced.Add(ident.Name);
            return declared;
        }

        if (CelLibrary.TypeByName(ident.Name) is not null)
        {
            return CelType.TypeType;
        }

        throw new CelCompileException($"undeclared reference to '{ident.Name}' (in container '')", ident.Position);
    }

    private (CelType, double) CheckSelect(CelSelect select)
    {
        var (operand, cost) = Check(select.Operand);
        var optional = select.Optional;
        if (operand.Kind == CelTypeKind.Optional)
        {
            operand = operand.Element!;
            optional = true;
        }

        CelType field;
        switch (operand.Kind)
        {
            case CelTypeKind.Dyn:
                field = CelType.Dyn;
                break;
            case CelTypeKind.Map:
                field = operand.Element!;
                break;
            case CelTypeKind.Object:
                if (!operand.Fields!.TryGetValue(select.Field, out field!))
                {
                    throw new CelCompileException($"undefined field '{select.Field}'", select.Position);
                }

                break;
            default:
                throw new CelCompileException($"type '{operand.Name}' does not support field selection", select.Position);
        }

        if (select.TestOnly)
        {
            return (CelType.Bool, cost + 1);
        }

        return (optional ? CelType.Optional(field) : field, cost + 1);
    }

    private (CelType, double) CheckIndex(CelIndex index)
    {
        var (operand, cost) = Check(index.Operand);
        var (key, keyCost) = Check(index.Key);
        var optional = index.Optional;
        if (operand.Kind == CelTypeKind.Optional)
        {
            operand = operand.Element!;
            optional = true;
        }

        CelType result = operand.Kind switch
        {
            CelTypeKind.Dyn => CelType.Dyn,
            CelTypeKind.List when CelType.Int.Accepts(key) || key.Kind is CelTypeKind.Uint => operand.Element!,
            CelTypeKind.Map when operand.Key!.Accepts(key) => operand.Element!,
            CelTypeKind.Object when CelType.String.Accepts(key) => CelType.Dyn,
            _ => throw new CelCompileException($"found no matching overload for '_[_]' applied to '({operand.Name}, {key.Name})'", index.Position),
        };
        return (optional ? CelType.Optional(result) : result, cost + keyCost + 1);
    }

    private (CelType, double) CheckComprehension(CelComprehension comprehension)
    {
        var (range, rangeCost) = Check(comprehension.Range);
        var variable = range.Kind switch
        {
            CelTypeKind.List => range.Element!,
            CelTypeKind.Map => range.Key!,
            CelTypeKind.Object => CelType.String,
            CelTypeKind.Dyn => CelType.Dyn,
            _ => throw new CelCompileException($"expression of type '{range.Name}' cannot be range of a comprehension (must be list, map, or dynamic)", comprehension.Range.Position),
        };
        var hadOuter = _locals.TryGetValue(comprehension.Variable, out var outer);
        _locals[comprehension.Variable] = variable;
        try
        {
            var (body, bodyCost) = Check(comprehension.Body);
            var transformCost = 0.0;
            CelType? transform = null;
            if (comprehension.Transform is not null)
            {
                (transform, transformCost) = Check(comprehension.Transform);
            }

            var iterations = (double)range.MaxSize;
            var total = rangeCost + (iterations * (1 + bodyCost + transformCost));
            switch (comprehension.Kind)
            {
                case CelMacroKind.Map:
                    if (transform is not null && !CelType.Bool.Accepts(transform))
                    {
                        throw new CelCompileException($"found no matching overload for 'map' applied to '{transform.Name}'", comprehension.Transform!.Position);
                    }

                    return (CelType.List(body, range.MaxSize), total);
                case CelMacroKind.Filter:
                    RequireBool(body, comprehension);
                    return (CelType.List(variable, range.MaxSize), total);
                default:
                    RequireBool(body, comprehension);
                    return (CelType.Bool, total);
            }
        }
        finally
        {
            if (hadOuter)
            {
                _locals[comprehension.Variable] = outer!;
            }
            else
            {
                _locals.Remove(comprehension.Variable);
            }
        }
    }

    private static void RequireBool(CelType type, CelComprehension comprehension)
    {
        if (!CelType.Bool.Accepts(type))
        {
            throw new CelCompileException($"found no matching overload for '{comprehension.Kind.ToString().ToLowerInvariant()}' applied to '{type.Name}': the predicate must be a bool", comprehension.Body.Position);
        }
    }

    private (CelType, double) CheckCall(CelCall call)
    {
        var target = call.Target is null ? ((CelType, double)?)null : Check(call.Target);
        var args = call.Args.Select(Check).ToList();
        var cost = (target?.Item2 ?? 0) + args.Sum(a => a.Cost) + 1;
        var types = args.Select(a => a.Type).ToList();
        switch (call.Function)
        {
            case "_&&_" or "_||_" or "!_" when types.All(CelType.Bool.Accepts):
                return (CelType.Bool, cost);
            case "_?_:_" when CelType.Bool.Accepts(types[0]):
                var branch = types[1].Name == types[2].Name || types[2].Kind == CelTypeKind.Null ? types[1]
                    : types[1].Kind == CelTypeKind.Null ? types[2]
                    : types[1].Kind == CelTypeKind.Dyn || types[2].Kind == CelTypeKind.Dyn ? CelType.Dyn
                    : throw NoOverload(call, null, types);
                return (branch, cost);
            case "_==_" or "_!=_" when CelType.Comparable(types[0], types[1]):
                return (CelType.Bool, cost + (Sized(types[0]) ? types[0].MaxSize / 10.0 : 0));
            case "_<_" or "_<=_" or "_>_" or "_>=_" when Orderable(types[0], types[1]):
                return (CelType.Bool, cost);
            case "@in" when types[1].Kind is CelTypeKind.Dyn
                             || (types[1].Kind == CelTypeKind.List && CelType.Comparable(types[1].Element!, types[0]))
                             || (types[1].Kind == CelTypeKind.Map && CelType.Comparable(types[1].Key!, types[0]))
                             || (types[1].Kind == CelTypeKind.Object && CelType.String.Accepts(types[0])):
                return (CelType.Bool, cost + types[1].MaxSize / 10.0);
            case "_&&_" or "_||_" or "!_" or "_?_:_" or "_==_" or "_!=_" or "_<_" or "_<=_" or "_>_" or "_>=_" or "@in":
                throw NoOverload(call, null, types);
        }

        var function = call.Function;
        var all = target is { } t ? [t.Item1, .. types] : types;
        if (!CelLibrary.Functions.TryGetValue(function, out var overloads))
        {
            throw new CelCompileException($"undeclared reference to '{function}' (in container '')", call.Position);
        }

        foreach (var overload in overloads)
        {
            if (overload.Member == target.HasValue && overload.AcceptsStatic(all))
            {
                if (function is "matches" or "find" or "findAll" && call.Args.Count > 0
                    && call.Args[call.Args.Count - 1 - (function == "findAll" && call.Args.Count == 2 ? 1 : 0)] is CelLiteral { Value: string pattern }
                    && CelLibrary.CheckPattern(pattern) is { } problem)
                {
                    throw new CelCompileException(problem, call.Position);
                }

                var result = overload.Result(all);
                var size = all.Count > 0 ? all[0].MaxSize : 1;
                cost += overload.Cost switch
                {
                    CelCost.LinearInFirst => size / 10.0,
                    CelCost.LinearInAll => all.Where(Sized).Sum(a => a.MaxSize) / 10.0,
                    CelCost.PerElement => size,
                    _ => 0,
                };
                if (result.Kind is CelTypeKind.String && overload.Cost != CelCost.Constant)
                {
                    result = CelType.StringOfLength(all.Where(Sized).Sum(a => a.MaxSize));
                }

                return (result, cost);
            }
        }

        throw NoOverload(call, target?.Item1, types);
    }

    private static bool Sized(CelType type) => type.Kind is CelTypeKind.String or CelTypeKind.Bytes or CelTypeKind.List or CelTypeKind.Map or CelTypeKind.Object or CelTypeKind.Dyn;

    private static bool Orderable(CelType a, CelType b)
    {
        static bool Numeric(CelType t) => t.Kind is CelTypeKind.Int or CelTypeKind.Uint or CelTypeKind.Double;
        if (a.Kind == CelTypeKind.Dyn || b.Kind == CelTypeKind.Dyn)
        {
            return true;
        }

        return (Numeric(a) && Numeric(b))
               || (a.Kind == b.Kind && a.Kind is CelTypeKind.String or CelTypeKind.Bytes or CelTypeKind.Bool or CelTypeKind.Timestamp or CelTypeKind.Duration);
    }

    private static CelCompileException NoOverload(CelCall call, CelType? target, List<CelType> args)
    {
        var list = string.Join(", ", args.Select(a => a.Name));
        var applied = target is null ? $"({list})" : $"{target.Name}.({list})";
        return new CelCompileException($"found no matching overload for '{call.Function}' applied to '{applied}'", call.Position);
    }
}
