using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// The functions a CEL expression may call: CEL's standard library, the strings extension, optionals, and
/// Kubernetes' libraries (lists, regex, quantity, URL), as the API server declares them for validation rules.
/// </summary>
internal static class CelLibrary
{
    private const int MaxCachedPatterns = 1000;

    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    private static readonly CelType Dyn = CelType.Dyn;
    private static readonly CelType Int = CelType.Int;
    private static readonly CelType Uint = CelType.Uint;
    private static readonly CelType Double = CelType.Double;
    private static readonly CelType Bool = CelType.Bool;
    private static readonly CelType Str = CelType.String;
    private static readonly CelType Bytes = CelType.Bytes;
    private static readonly CelType Dur = CelType.Duration;
    private static readonly CelType Ts = CelType.Timestamp;
    private static readonly CelType Qty = CelType.Quantity;
    private static readonly CelType Url = CelType.Url;
    private static readonly CelType AnyList = CelType.List(Dyn);
    private static readonly CelType AnyMap = CelType.Map(Dyn, Dyn);
    private static readonly CelType AnyOptional = CelType.Optional(Dyn);
    private static readonly CelType StringList = CelType.List(Str);

    public static IReadOnlyDictionary<string, List<CelOverload>> Functions { get; } = Build();

    private static Dictionary<string, List<CelOverload>> Build()
    {
        var table = new Dictionary<string, List<CelOverload>>(StringComparer.Ordinal);

        void Add(string name, bool member, CelType[] parameters, CelType result, Func<object?[], object?> invoke, CelCost cost = CelCost.Constant) =>
            AddTyped(name, member, parameters, _ => result, invoke, cost);

        void AddTyped(string name, bool member, CelType[] parameters, Func<IReadOnlyList<CelType>, CelType> result, Func<object?[], object?> invoke, CelCost cost = CelCost.Constant)
        {
            if (!table.TryGetValue(name, out var list))
            {
                table[name] = list = [];
            }

            list.Add(new CelOverload(name, member, parameters, result, invoke, cost));
        }

        CelAuthorizerLibrary.Register(Add);
        Add("jsonpatch.escapeKey", false, [Str], Str, a => ((string)a[0]!).Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal), CelCost.LinearInFirst);

        // Arithmetic, with overflow and division errors as CEL reports them.
        Add("_+_", false, [Int, Int], Int, a => Checked(() => checked((long)a[0]! + (long)a[1]!)));
        Add("_+_", false, [Uint, Uint], Uint, a => Checked(() => checked((ulong)a[0]! + (ulong)a[1]!)));
        Add("_+_", false, [Double, Double], Double, a => (double)a[0]! + (double)a[1]!);
        Add("_+_", false, [Str, Str], Str, a => string.Concat((string)a[0]!, (string)a[1]!), CelCost.LinearInAll);
        Add("_+_", false, [Bytes, Bytes], Bytes, a => ((byte[])a[0]!).Concat((byte[])a[1]!).ToArray(), CelCost.LinearInAll);
        AddTyped("_+_", false, [AnyList, AnyList], t => t[0].Kind == CelTypeKind.List && t[0].Element!.Kind != CelTypeKind.Dyn ? t[0] : t[1],
            a => ((IReadOnlyList<object?>)a[0]!).Concat((IReadOnlyList<object?>)a[1]!).ToList(), CelCost.LinearInAll);
        Add("_+_", false, [Ts, Dur], Ts, a => Checked(() => ((DateTimeOffset)a[0]!).Add((TimeSpan)a[1]!)));
        Add("_+_", false, [Dur, Ts], Ts, a => Checked(() => ((DateTimeOffset)a[1]!).Add((TimeSpan)a[0]!)));
        Add("_+_", false, [Dur, Dur], Dur, a => Checked(() => ((TimeSpan)a[0]!).Add((TimeSpan)a[1]!)));
        Add("_-_", false, [Int, Int], Int, a => Checked(() => checked((long)a[0]! - (long)a[1]!)));
        Add("_-_", false, [Uint, Uint], Uint, a => Checked(() => checked((ulong)a[0]! - (ulong)a[1]!)));
        Add("_-_", false, [Double, Double], Double, a => (double)a[0]! - (double)a[1]!);
        Add("_-_", false, [Ts, Ts], Dur, a => Checked(() => (DateTimeOffset)a[0]! - (DateTimeOffset)a[1]!));
        Add("_-_", false, [Ts, Dur], Ts, a => Checked(() => ((DateTimeOffset)a[0]!).Subtract((TimeSpan)a[1]!)));
        Add("_-_", false, [Dur, Dur], Dur, a => Checked(() => ((TimeSpan)a[0]!).Subtract((TimeSpan)a[1]!)));
        Add("_*_", false, [Int, Int], Int, a => Checked(() => checked((long)a[0]! * (long)a[1]!)));
        Add("_*_", false, [Uint, Uint], Uint, a => Checked(() => checked((ulong)a[0]! * (ulong)a[1]!)));
        Add("_*_", false, [Double, Double], Double, a => (double)a[0]! * (double)a[1]!);
        Add("_/_", false, [Int, Int], Int, a => (long)a[1]! == 0 ? throw new CelEvaluationException("division by zero") : Checked(() => checked((long)a[0]! / (long)a[1]!)));
        Add("_/_", false, [Uint, Uint], Uint, a => (ulong)a[1]! == 0 ? throw new CelEvaluationException("division by zero") : (ulong)a[0]! / (ulong)a[1]!);
        Add("_/_", false, [Double, Double], Double, a => (double)a[0]! / (double)a[1]!);
        Add("_%_", false, [Int, Int], Int, a => (long)a[1]! == 0 ? throw new CelEvaluationException("modulus by zero") : Checked(() => checked((long)a[0]! % (long)a[1]!)));
        Add("_%_", false, [Uint, Uint], Uint, a => (ulong)a[1]! == 0 ? throw new CelEvaluationException("modulus by zero") : (ulong)a[0]! % (ulong)a[1]!);
        Add("-_", false, [Int], Int, a => Checked(() => checked(-(long)a[0]!)));
        Add("-_", false, [Double], Double, a => -(double)a[0]!);
        Add("-_", false, [Dur], Dur, a => ((TimeSpan)a[0]!).Negate());
        Add("!_", false, [Bool], Bool, a => !(bool)a[0]!);

        // Sizes.
        foreach (var member in new[] { false, true })
        {
            Add("size", member, [Str], Int, a => (long)CodePoints((string)a[0]!));
            Add("size", member, [Bytes], Int, a => (long)((byte[])a[0]!).Length);
            Add("size", member, [AnyList], Int, a => (long)((IReadOnlyList<object?>)a[0]!).Count);
            Add("size", member, [AnyMap], Int, a => (long)((CelMapValue)a[0]!).Count);
        }

        // Strings.
        Add("contains", true, [Str, Str], Bool, a => ((string)a[0]!).Contains((string)a[1]!, StringComparison.Ordinal), CelCost.LinearInFirst);
        Add("startsWith", true, [Str, Str], Bool, a => ((string)a[0]!).StartsWith((string)a[1]!, StringComparison.Ordinal), CelCost.LinearInFirst);
        Add("endsWith", true, [Str, Str], Bool, a => ((string)a[0]!).EndsWith((string)a[1]!, StringComparison.Ordinal), CelCost.LinearInFirst);
        Add("matches", true, [Str, Str], Bool, a => Pattern((string)a[1]!).IsMatch((string)a[0]!), CelCost.LinearInAll);
        Add("matches", false, [Str, Str], Bool, a => Pattern((string)a[1]!).IsMatch((string)a[0]!), CelCost.LinearInAll);
        Add("charAt", true, [Str, Int], Str, a => CharAt((string)a[0]!, (long)a[1]!), CelCost.LinearInFirst);
        Add("indexOf", true, [Str, Str], Int, a => IndexOf((string)a[0]!, (string)a[1]!, 0), CelCost.LinearInFirst);
        Add("indexOf", true, [Str, Str, Int], Int, a => IndexOf((string)a[0]!, (string)a[1]!, (long)a[2]!), CelCost.LinearInFirst);
        Add("lastIndexOf", true, [Str, Str], Int, a => LastIndexOf((string)a[0]!, (string)a[1]!, null), CelCost.LinearInFirst);
        Add("lastIndexOf", true, [Str, Str, Int], Int, a => LastIndexOf((string)a[0]!, (string)a[1]!, (long)a[2]!), CelCost.LinearInFirst);
        Add("lowerAscii", true, [Str], Str, a => AsciiCase((string)a[0]!, upper: false), CelCost.LinearInFirst);
        Add("upperAscii", true, [Str], Str, a => AsciiCase((string)a[0]!, upper: true), CelCost.LinearInFirst);
        Add("replace", true, [Str, Str, Str], Str, a => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, -1), CelCost.LinearInFirst);
        Add("replace", true, [Str, Str, Str, Int], Str, a => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, (long)a[3]!), CelCost.LinearInFirst);
        Add("split", true, [Str, Str], StringList, a => Split((string)a[0]!, (string)a[1]!, -1), CelCost.LinearInFirst);
        Add("split", true, [Str, Str, Int], StringList, a => Split((string)a[0]!, (string)a[1]!, (long)a[2]!), CelCost.LinearInFirst);
        Add("substring", true, [Str, Int], Str, a => Substring((string)a[0]!, (long)a[1]!, null), CelCost.LinearInFirst);
        Add("substring", true, [Str, Int, Int], Str, a => Substring((string)a[0]!, (long)a[1]!, (long)a[2]!), CelCost.LinearInFirst);
        Add("trim", true, [Str], Str, a => ((string)a[0]!).Trim(), CelCost.LinearInFirst);
        Add("reverse", true, [Str], Str, a => Reverse((string)a[0]!), CelCost.LinearInFirst);
        Add("join", true, [StringList], Str, a => string.Concat(((IReadOnlyList<object?>)a[0]!).Select(AsString)), CelCost.PerElement);
        Add("join", true, [StringList, Str], Str, a => string.Join((string)a[1]!, ((IReadOnlyList<object?>)a[0]!).Select(AsString)), CelCost.PerElement);
        Add("find", true, [Str, Str], Str, a => Pattern((string)a[1]!).Match((string)a[0]!) is { Success: true } m ? m.Value : string.Empty, CelCost.LinearInAll);
        Add("findAll", true, [Str, Str], StringList, a => FindAll((string)a[0]!, (string)a[1]!, -1), CelCost.LinearInAll);
        Add("findAll", true, [Str, Str, Int], StringList, a => FindAll((string)a[0]!, (string)a[1]!, (long)a[2]!), CelCost.LinearInAll);

        // Conversions.
        Add("int", false, [Int], Int, a => a[0]);
        Add("int", false, [Uint], Int, a => (ulong)a[0]! > long.MaxValue ? throw new CelEvaluationException("integer overflow") : (long)(ulong)a[0]!);
        Add("int", false, [Double], Int, a => DoubleToLong((double)a[0]!));
        Add("int", false, [Str], Int, a => long.TryParse((string)a[0]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : throw new CelEvaluationException($"cannot convert '{a[0]}' to int"));
        Add("int", false, [Ts], Int, a => ((DateTimeOffset)a[0]!).ToUnixTimeSeconds());
        Add("int", false, [Dur], Int, a => ((TimeSpan)a[0]!).Ticks * 100);
        Add("uint", false, [Uint], Uint, a => a[0]);
        Add("uint", false, [Int], Uint, a => (long)a[0]! < 0 ? throw new CelEvaluationException("unsigned integer overflow") : (ulong)(long)a[0]!);
        Add("uint", false, [Double], Uint, a => (double)a[0]! is var d && d >= 0 && d < 18446744073709551615.0 ? (ulong)d : throw new CelEvaluationException("unsigned integer overflow"));
        Add("uint", false, [Str], Uint, a => ulong.TryParse((string)a[0]!, NumberStyles.None, CultureInfo.InvariantCulture, out var u) ? u : throw new CelEvaluationException($"cannot convert '{a[0]}' to uint"));
        Add("double", false, [Double], Double, a => a[0]);
        Add("double", false, [Int], Double, a => (double)(long)a[0]!);
        Add("double", false, [Uint], Double, a => (double)(ulong)a[0]!);
        Add("double", false, [Str], Double, a => double.TryParse((string)a[0]!, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new CelEvaluationException($"cannot convert '{a[0]}' to double"));
        foreach (var from in new[] { Str, Int, Uint, Double, Bool, Bytes, Ts, Dur })
        {
            Add("string", false, [from], Str, a => CelValue.Format(a[0]));
        }

        Add("bytes", false, [Bytes], Bytes, a => a[0]);
        Add("bytes", false, [Str], Bytes, a => Encoding.UTF8.GetBytes((string)a[0]!));
        Add("bool", false, [Bool], Bool, a => a[0]);
        Add("bool", false, [Str], Bool, a => (string)a[0]! switch
        {
            "true" or "True" or "TRUE" or "t" or "1" => true,
            "false" or "False" or "FALSE" or "f" or "0" => false,
            _ => throw new CelEvaluationException($"type conversion error from 'string' to 'bool'"),
        });
        Add("duration", false, [Dur], Dur, a => a[0]);
        Add("duration", false, [Str], Dur, a => CelDurations.TryParse((string)a[0]!, out var d) ? d : throw new CelEvaluationException($"type conversion error from 'string' to 'google.protobuf.Duration'"));
        Add("timestamp", false, [Ts], Ts, a => a[0]);
        Add("timestamp", false, [Str], Ts, a => DateTimeOffset.TryParse((string)a[0]!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw new CelEvaluationException($"type conversion error from 'string' to 'google.protobuf.Timestamp'"));
        Add("timestamp", false, [Int], Ts, a => DateTimeOffset.FromUnixTimeSeconds((long)a[0]!));
        AddTyped("dyn", false, [Dyn], _ => Dyn, a => a[0]);
        Add("type", false, [Dyn], CelType.TypeType, a => CelValue.TypeOf(a[0]) is var t && t.Kind is CelTypeKind.List ? ListTypeValue : t.Kind is CelTypeKind.Map ? MapTypeValue : t);

        // Timestamps and durations.
        Add("getFullYear", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Year);
        Add("getMonth", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Month - 1);
        Add("getDayOfMonth", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Day - 1);
        Add("getDate", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Day);
        Add("getDayOfWeek", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.DayOfWeek);
        Add("getDayOfYear", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.DayOfYear - 1);
        Add("getHours", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Hour);
        Add("getMinutes", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Minute);
        Add("getSeconds", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Second);
        Add("getMilliseconds", true, [Ts], Int, a => (long)((DateTimeOffset)a[0]!).UtcDateTime.Millisecond);
        Add("getHours", true, [Dur], Int, a => (long)((TimeSpan)a[0]!).TotalHours);
        Add("getMinutes", true, [Dur], Int, a => (long)((TimeSpan)a[0]!).TotalMinutes);
        Add("getSeconds", true, [Dur], Int, a => (long)((TimeSpan)a[0]!).TotalSeconds);
        Add("getMilliseconds", true, [Dur], Int, a => (long)((TimeSpan)a[0]!).Milliseconds);

        // Kubernetes list library.
        Add("isSorted", true, [AnyList], Bool, a => IsSorted((IReadOnlyList<object?>)a[0]!), CelCost.PerElement);
        AddTyped("sum", true, [AnyList], t => t[0].Element is { Kind: not CelTypeKind.Dyn } e ? e : Dyn, a => Sum((IReadOnlyList<object?>)a[0]!), CelCost.PerElement);
        AddTyped("min", true, [AnyList], t => t[0].Element ?? Dyn, a => Extreme((IReadOnlyList<object?>)a[0]!, -1), CelCost.PerElement);
        AddTyped("max", true, [AnyList], t => t[0].Element ?? Dyn, a => Extreme((IReadOnlyList<object?>)a[0]!, 1), CelCost.PerElement);
        Add("indexOf", true, [AnyList, Dyn], Int, a => (long)IndexOfElement((IReadOnlyList<object?>)a[0]!, a[1], last: false), CelCost.PerElement);
        Add("lastIndexOf", true, [AnyList, Dyn], Int, a => (long)IndexOfElement((IReadOnlyList<object?>)a[0]!, a[1], last: true), CelCost.PerElement);

        // Optionals.
        AddTyped("optional.of", false, [Dyn], t => CelType.Optional(t[0]), a => CelOptional.Of(a[0]));
        AddTyped("optional.ofNonZeroValue", false, [Dyn], t => CelType.Optional(t[0]), a => IsZero(a[0]) ? CelOptional.None : CelOptional.Of(a[0]));
        Add("optional.none", false, [], AnyOptional, _ => CelOptional.None);
        Add("hasValue", true, [AnyOptional], Bool, a => ((CelOptional)a[0]!).HasValue);
        AddTyped("value", true, [AnyOptional], t => t[0].Element ?? Dyn, a => ((CelOptional)a[0]!) is { HasValue: true } o ? o.Value : throw new CelEvaluationException("optional.none() dereference"));
        AddTyped("orValue", true, [AnyOptional, Dyn], t => t[0].Element is { Kind: not CelTypeKind.Dyn } e ? e : t[1], a => ((CelOptional)a[0]!) is { HasValue: true } o ? o.Value : a[1]);
        AddTyped("or", true, [AnyOptional, AnyOptional], t => t[0], a => ((CelOptional)a[0]!).HasValue ? a[0] : a[1]);

        // Kubernetes quantity library.
        Add("quantity", false, [Str], Qty, a => Quantity.TryParse((string)a[0]!, out var q) ? q : throw new CelEvaluationException($"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        Add("isQuantity", false, [Str], Bool, a => Quantity.TryParse((string)a[0]!, out _));
        Add("isLessThan", true, [Qty, Qty], Bool, a => ((Quantity)a[0]!).CompareTo((Quantity)a[1]!) < 0);
        Add("isGreaterThan", true, [Qty, Qty], Bool, a => ((Quantity)a[0]!).CompareTo((Quantity)a[1]!) > 0);
        Add("compareTo", true, [Qty, Qty], Int, a => (long)Math.Sign(((Quantity)a[0]!).CompareTo((Quantity)a[1]!)));
        Add("add", true, [Qty, Qty], Qty, a => ((Quantity)a[0]!).Add((Quantity)a[1]!));
        Add("add", true, [Qty, Int], Qty, a => ((Quantity)a[0]!).Add(new Quantity((long)a[1]!)));
        Add("sub", true, [Qty, Qty], Qty, a => ((Quantity)a[0]!).Subtract((Quantity)a[1]!));
        Add("sub", true, [Qty, Int], Qty, a => ((Quantity)a[0]!).Subtract(new Quantity((long)a[1]!)));
        Add("sign", true, [Qty], Int, a => (long)((Quantity)a[0]!).Sign);
        Add("isInteger", true, [Qty], Bool, a => ((Quantity)a[0]!) is var q && q.ToDouble() is var d && d == Math.Floor(d) && Math.Abs(d) < 9.2e18);
        Add("asInteger", true, [Qty], Int, a => ((Quantity)a[0]!) is var q && q.ToDouble() is var d && d == Math.Floor(d) && Math.Abs(d) < 9.2e18 ? q.Value() : throw new CelEvaluationException("cannot convert value to integer"));
        Add("asApproximateFloat", true, [Qty], Double, a => ((Quantity)a[0]!).ToDouble());

        // Kubernetes URL library.
        Add("url", false, [Str], Url, a => ParseUrl((string)a[0]!) ?? throw new CelEvaluationException($"URL parse error during conversion from string: {a[0]}"));
        Add("isURL", false, [Str], Bool, a => ParseUrl((string)a[0]!) is not null);
        Add("getScheme", true, [Url], Str, a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).Scheme : string.Empty);
        Add("getHost", true, [Url], Str, a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).Authority : string.Empty);
        Add("getHostname", true, [Url], Str, a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).Host.Trim('[', ']') : string.Empty);
        Add("getPort", true, [Url], Str, a => ((Uri)a[0]!) is { IsAbsoluteUri: true, IsDefaultPort: false } u ? u.Port.ToString(CultureInfo.InvariantCulture) : string.Empty);
        Add("getEscapedPath", true, [Url], Str, a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).AbsolutePath : ((Uri)a[0]!).OriginalString);

        return table;
    }

    private static readonly CelType ListTypeValue = CelType.List(CelType.Dyn);
    private static readonly CelType MapTypeValue = CelType.Map(CelType.Dyn, CelType.Dyn);

    /// <summary>The type denoted by a type name used as a value (<c>type(x) == string</c>).</summary>
    public static CelType? TypeByName(string name) => name switch
    {
        "int" => CelType.Int,
        "uint" => CelType.Uint,
        "double" => CelType.Double,
        "bool" => CelType.Bool,
        "string" => CelType.String,
        "bytes" => CelType.Bytes,
        "list" => ListTypeValue,
        "map" => MapTypeValue,
        "null_type" => CelType.Null,
        "type" => CelType.TypeType,
        "google.protobuf.Duration" => CelType.Duration,
        "google.protobuf.Timestamp" => CelType.Timestamp,
        _ => null,
    };

    public static object? Invoke(string function, object?[] args)
    {
        if (Functions.TryGetValue(function, out var overloads))
        {
            foreach (var overload in overloads)
            {
                if (overload.AcceptsValues(args))
                {
                    return overload.Invoke(args);
                }
            }
        }

        throw CelEvaluationException.NoSuchOverload(function);
    }

    private static object Checked(Func<object> operation)
    {
        try
        {
            return operation();
        }
        catch (OverflowException)
        {
            throw new CelEvaluationException("integer overflow");
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new CelEvaluationException("timestamp overflow");
        }
    }

    private static long DoubleToLong(double value) =>
        double.IsNaN(value) || value <= -9.2233720368547758E+18 || value >= 9.2233720368547758E+18
            ? throw new CelEvaluationException("integer overflow")
            : (long)value;

    private static Regex Pattern(string pattern)
    {
        if (Patterns.TryGetValue(pattern, out var regex))
        {
            return regex;
        }

        try
        {
            // RE2 runs in linear time; the non-backtracking engine keeps that promise.
            regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromSeconds(1));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw new CelEvaluationException($"error parsing regexp: {ex.Message}");
        }

        if (Patterns.Count < MaxCachedPatterns)
        {
            Patterns.TryAdd(pattern, regex);
        }

        return regex;
    }

    /// <summary>Compiles a constant pattern at check time, so a bad regular expression fails the compile.</summary>
    public static string? CheckPattern(string pattern)
    {
        try
        {
            Pattern(pattern);
            return null;
        }
        catch (CelEvaluationException ex)
        {
            return ex.Message;
        }
    }

    private static int CodePoints(string text)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsLowSurrogate(text[i]))
            {
                count++;
            }
        }

        return count;
    }

    private static int[] Runes(string text) => text.EnumerateRunes().Select(r => r.Value).ToArray();

    private static string FromRunes(IEnumerable<int> runes) => string.Concat(runes.Select(char.ConvertFromUtf32));

    private static string CharAt(string text, long index)
    {
        var runes = Runes(text);
        if (index < 0 || index > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {index}");
        }

        return index == runes.Length ? string.Empty : char.ConvertFromUtf32(runes[index]);
    }

    private static long IndexOf(string text, string search, long offset)
    {
        var runes = Runes(text);
        var target = Runes(search);
        if (offset < 0 || offset > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {offset}");
        }

        for (var i = (int)offset; i + target.Length <= runes.Length; i++)
        {
            if (runes.AsSpan(i, target.Length).SequenceEqual(target))
            {
                return i;
            }
        }

        return -1;
    }

    private static long LastIndexOf(string text, string search, long? offset)
    {
        var runes = Runes(text);
        var target = Runes(search);
        var start = offset ?? runes.Length;
        if (start < 0 || start > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {start}");
        }

        for (var i = (int)Math.Min(start, runes.Length - target.Length); i >= 0; i--)
        {
            if (runes.AsSpan(i, target.Length).SequenceEqual(target))
            {
                return i;
            }
        }

        return -1;
    }

    private static string AsciiCase(string text, bool upper)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = upper ? (char.IsAsciiLetterLower(chars[i]) ? char.ToUpperInvariant(chars[i]) : chars[i]) : (char.IsAsciiLetterUpper(chars[i]) ? char.ToLowerInvariant(chars[i]) : chars[i]);
        }

        return new string(chars);
    }

    private static string Replace(string text, string from, string to, long limit)
    {
        if (limit < 0)
        {
            return from.Length == 0 ? string.Join(to, ["", .. Runes(text).Select(char.ConvertFromUtf32), ""]) : text.Replace(from, to, StringComparison.Ordinal);
        }

        var builder = new StringBuilder();
        var at = 0;
        for (var n = 0; n < limit; n++)
        {
            var found = text.IndexOf(from, at, StringComparison.Ordinal);
            if (found < 0 || from.Length == 0)
            {
                break;
            }

            builder.Append(text, at, found - at).Append(to);
            at = found + from.Length;
        }

        return builder.Append(text, at, text.Length - at).ToString();
    }

    private static List<object?> Split(string text, string separator, long limit)
    {
        if (limit == 0)
        {
            return [];
        }

        string[] parts = separator.Length == 0
            ? Runes(text).Select(char.ConvertFromUtf32).ToArray()
            : limit < 0 ? text.Split(separator) : text.Split(separator, (int)Math.Min(limit, int.MaxValue));
        if (separator.Length == 0 && limit > 0 && parts.Length > limit)
        {
            parts = [.. parts.Take((int)limit - 1), string.Concat(parts.Skip((int)limit - 1))];
        }

        return parts.Cast<object?>().ToList();
    }

    private static string Substring(string text, long start, long? end)
    {
        var runes = Runes(text);
        var stop = end ?? runes.Length;
        if (start < 0 || start > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {start}");
        }

        if (stop < start || stop > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {stop}");
        }

        return FromRunes(runes.Skip((int)start).Take((int)(stop - start)));
    }

    private static string Reverse(string text) => FromRunes(Runes(text).Reverse());

    private static string AsString(object? value) => value as string ?? throw CelEvaluationException.NoSuchOverload("join");

    private static List<object?> FindAll(string text, string pattern, long limit)
    {
        var matches = Pattern(pattern).Matches(text).Select(m => (object?)m.Value);
        return (limit < 0 ? matches : matches.Take((int)Math.Min(limit, int.MaxValue))).ToList();
    }

    private static bool IsSorted(IReadOnlyList<object?> list)
    {
        for (var i = 1; i < list.Count; i++)
        {
            if (CelOperators.Compare(list[i - 1], list[i], "isSorted") > 0)
            {
                return false;
            }
        }

        return true;
    }

    private static object? Sum(IReadOnlyList<object?> list)
    {
        object? total = null;
        foreach (var item in list)
        {
            total = total is null ? item : Invoke("_+_", [total, item]);
        }

        return total ?? 0L;
    }

    private static object? Extreme(IReadOnlyList<object?> list, int direction)
    {
        if (list.Count == 0)
        {
            throw new CelEvaluationException(direction < 0 ? "min(list) called on an empty list" : "max(list) called on an empty list");
        }

        var best = list[0];
        foreach (var item in list.Skip(1))
        {
            if (CelOperators.Compare(item, best, direction < 0 ? "min" : "max") * direction > 0)
            {
                best = item;
            }
        }

        return best;
    }

    private static int IndexOfElement(IReadOnlyList<object?> list, object? value, bool last)
    {
        if (last)
        {
            for (var i = list.Count - 1; i >= 0; i--)
            {
                if (CelValue.Equals(list[i], value))
                {
                    return i;
                }
            }

            return -1;
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (CelValue.Equals(list[i], value))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsZero(object? value) => value switch
    {
        null => true,
        false => true,
        long l => l == 0,
        ulong u => u == 0,
        double d => d == 0,
        string s => s.Length == 0,
        byte[] b => b.Length == 0,
        IReadOnlyList<object?> l => l.Count == 0,
        CelMapValue m => m.Count == 0,
        TimeSpan d => d == TimeSpan.Zero,
        _ => false,
    };

    private static Uri? ParseUrl(string text)
    {
        // As Kubernetes' url(): an absolute URI or an absolute path.
        if (Uri.TryCreate(text, UriKind.Absolute, out var absolute) && !string.IsNullOrEmpty(absolute.Scheme) && !text.StartsWith('/'))
        {
            return absolute;
        }

        return text.StartsWith('/') && Uri.TryCreate(text, UriKind.Relative, out var relative) ? relative : null;
    }
}
