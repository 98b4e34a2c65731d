namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// The declarations an expression is compiled against: its variables and their types. Compiling parses, type-checks
/// and estimates the worst-case cost once; the resulting <see cref="CelProgram"/> is immutable and thread-safe.
/// CRD validation rules declare <c>self</c> (and <c>oldSelf</c>); admission policies declare <c>object</c>,
/// <c>oldObject</c>, <c>request</c>, <c>params</c> and so on.
/// </summary>
public sealed class CelEnvironment(IReadOnlyDictionary<string, CelType> variables)
{
    public IReadOnlyDictionary<string, CelType> Variables { get; } = variables;

    public CelCompilation Compile(string expression)
    {
        try
        {
            var ast = CelParser.Parse(expression);
            var checker = new CelChecker(Variables);
            var (type, cost) = checker.Check(ast);
            return new CelCompilation(expression, new CelProgram(ast, type), null, (long)Math.Min(Math.Ceiling(cost), long.MaxValue), checker.Referenced);
        }
        catch (CelCompileException ex)
        {
            return new CelCompilation(expression, null, FormatError(expression, ex.Message, ex.Position), 0, new HashSet<string>());
        }
    }

    /// <summary>The error as cel-go prints it: <c>ERROR: &lt;input&gt;:line:column: message</c>, the line and a caret.</summary>
    private static string FormatError(string expression, string message, int position)
    {
        position = Math.Clamp(position, 0, expression.Length);
        var lineStart = expression.LastIndexOf('\n', Math.Max(0, position - 1)) + 1;
        if (position == 0)
        {
            lineStart = 0;
        }

        var line = expression[..position].Count(c => c == '\n') + 1;
        var column = position - lineStart;
        var lineEnd = expression.IndexOf('\n', lineStart);
        var text = lineEnd < 0 ? expression[lineStart..] : expression[lineStart..lineEnd];
        return $"ERROR: <input>:{line}:{column + 1}: {message}\n | {text}\n | {new string('.', column)}^";
    }
}

/// <summary>The outcome of compiling one expression: a program, or the error text.</summary>
public sealed class CelCompilation(string expression, CelProgram? program, string? error, long estimatedCost, IReadOnlySet<string> referenced)
{
    public string Expression { get; } = expression;

    public CelProgram? Program { get; } = program;

    public string? Error { get; } = error;

    /// <summary>The worst-case cost over inputs the declared types allow (upstream's static estimate).</summary>
    public long EstimatedCost { get; } = estimatedCost;

    /// <summary>Whether the expression names a declared variable (e.g. oldSelf makes a CRD rule a transition rule).</summary>
    public bool References(string variable) => referenced.Contains(variable);
}

/// <summary>A compiled expression, evaluated any number of times concurrently.</summary>
public sealed class CelProgram
{
    private readonly CelExpr _ast;

    internal CelProgram(CelExpr ast, CelType resultType)
    {
        _ast = ast;
        ResultType = resultType;
    }

    public CelType ResultType { get; }

    /// <summary>
    /// Evaluates over the variables' values (JSON through <see cref="CelValue.FromJson"/>); throws
    /// <see cref="CelEvaluationException"/> on a run-time error or once <paramref name="costLimit"/> is used up.
    /// </summary>
    public object? Evaluate(IReadOnlyDictionary<string, object?> activation, long costLimit, out long cost)
    {
        var interpreter = new CelInterpreter(activation, costLimit);
        try
        {
            return interpreter.Evaluate(_ast);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new CelEvaluationException("expression too deeply nested");
        }
        catch (Exception ex) when (ex is InvalidCastException or System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            throw new CelEvaluationException("no such overload", ex);
        }
        finally
        {
            cost = interpreter.Cost;
        }
    }
}
