using System.Globalization;
using System.Text;

namespace Kubesharp.ApiMachinery.Cel;

/// <summary>
/// A recursive-descent parser for the CEL grammar (cel-spec): conditional, logical, relational, additive,
/// multiplicative and unary operators, member access, calls, list and map literals; macros (has, all, exists,
/// exists_one, map, filter) are expanded while parsing, as upstream does.
/// </summary>
internal sealed class CelParser
{
    private const int MaxDepth = 100;
    private const int MaxLength = 100_000;

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
        "namespace", "return", "var", "void", "while",
    };

    private readonly string _text;
    private int _pos;
    private int _depth;

    private CelParser(string text) => _text = text;

    public static CelExpr Parse(string text)
    {
        if (text.Length > MaxLength)
        {
            throw new CelCompileException($"expression code point size exceeds limit: size: {text.Length}, limit {MaxLength}", 0);
        }

        var parser = new CelParser(text);
        var expr = parser.ParseExpr();
        parser.SkipSpace();
        if (parser._pos < text.Length)
        {
            throw parser.Error($"Syntax error: extraneous input '{text[parser._pos]}'");
        }

        return expr;
    }

    private CelCompileException Error(string message, int? position = null) => new(message, position ?? _pos);

    private CelExpr ParseExpr()
    {
        if (++_depth > MaxDepth)
        {
            throw Error("expression recursion limit exceeded");
        }

        try
        {
            var condition = ParseOr();
            SkipSpace();
            if (!Accept("?"))
            {
                return condition;
            }

            var at = _pos - 1;
            var then = ParseOr();
            Expect(":");
            var otherwise = ParseExpr();
            return new CelCall(at, "_?_:_", null, [condition, then, otherwise]);
        }
        finally
        {
            _depth--;
        }
    }

    private CelExpr ParseOr()
    {
        var left = ParseAnd();
        while (true)
        {
            SkipSpace();
            var at = _pos;
            if (!Accept("||"))
            {
                return left;
            }

            left = new CelCall(at, "_||_", null, [left, ParseAnd()]);
        }
    }

    private CelExpr ParseAnd()
    {
        var left = ParseRelation();
        while (true)
        {
            SkipSpace();
            var at = _pos;
            if (!Accept("&&"))
            {
                return left;
            }

            left = new CelCall(at, "_&&_", null, [left, ParseRelation()]);
        }
    }

    private CelExpr ParseRelation()
    {
        var left = ParseAddition();
        while (true)
        {
            SkipSpace();
            var at = _pos;
            string? op = null;
            foreach (var candidate in new[] { "==", "!=", "<=", ">=", "<", ">" })
            {
                if (Accept(candidate))
                {
                    op = candidate;
                    break;
                }
            }

            if (op is null && AcceptKeyword("in"))
            {
                op = "in";
            }

            if (op is null)
            {
                return left;
            }

            var name = op == "in" ? "@in" : $"_{op}_";
            left = new CelCall(at, name, null, [left, ParseAddition()]);
        }
    }

    private CelExpr ParseAddition()
    {
        var left = ParseMultiplication();
        while (true)
        {
            SkipSpace();
            var at = _pos;
            if (Accept("+"))
            {
                left = new CelCall(at, "_+_", null, [left, ParseMultiplication()]);
            }
            else if (Peek('-') && !Peek("->"))
            {
                _pos++;
                left = new CelCall(at, "_-_", null, [left, ParseMultiplication()]);
            }
            else
            {
                return left;
            }
        }
    }

    private CelExpr ParseMultiplication()
    {
        var left = ParseUnary();
        while (true)
        {
            SkipSpace();
            var at = _pos;
            string? op = Accept("*") ? "_*_" : Accept("/") ? "_/_" : Accept("%") ? "_%_" : null;
            if (op is null)
            {
                return left;
            }

            left = new CelCall(at, op, null, [left, ParseUnary()]);
        }
    }

    private CelExpr ParseUnary()
    {
        SkipSpace();
        var at = _pos;
        if (Accept("!"))
        {
            if (++_depth > MaxDepth)
            {
                throw Error("expression recursion limit exceeded");
            }

            var operand = ParseUnary();
            _depth--;
            return new CelCall(at, "!_", null, [operand]);
        }

        if (Peek('-'))
        {
            _pos++;
            SkipSpace();
            // A negative literal is one constant, so that -9223372036854775808 parses.
            if (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                var literal = ParseNumber(negative: true, at);
                return ParseMemberSuffix(literal);
            }

            if (++_depth > MaxDepth)
            {
                throw Error("expression recursion limit exceeded");
            }

            var operand = ParseUnary();
            _depth--;
            return new CelCall(at, "-_", null, [operand]);
        }

        return ParseMemberSuffix(ParsePrimary());
    }

    private CelExpr ParseMemberSuffix(CelExpr expr)
    {
        while (true)
        {
            SkipSpace();
            var at = _pos;
            if (Peek(".") && !(_pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1])))
            {
                _pos++;
                var optional = Accept("?");
                SkipSpace();
                var name = ParseIdentifier();
                SkipSpace();
                if (!optional && Accept("("))
                {
                    var args = ParseArguments(")");
                    expr = ExpandMemberCall(at, expr, name, args);
                }
                else
                {
                    expr = new CelSelect(at, expr, name, TestOnly: false, optional);
                    if (!optional && Peek("{") && QualifiedName(expr) is { } typeName)
                    {
                        _pos++;
                        expr = ParseStruct(at, typeName);
                    }
                }
            }
            else if (Accept("["))
            {
                var optional = Accept("?");
                var key = ParseExpr();
                Expect("]");
                expr = new CelIndex(at, expr, key, optional);
            }
            else
            {
                return expr;
            }
        }
    }

    private CelExpr ExpandMemberCall(int at, CelExpr target, string name, List<CelExpr> args)
    {
        var kind = name switch
        {
            "all" => CelMacroKind.All,
            "exists" => CelMacroKind.Exists,
            "exists_one" => CelMacroKind.ExistsOne,
            "map" => CelMacroKind.Map,
            "filter" => CelMacroKind.Filter,
            _ => (CelMacroKind?)null,
        };
        if (target is CelIdent { Name: "jsonpatch" } && name == "escapeKey")
        {
            return new CelCall(at, "jsonpatch.escapeKey", null, args);
        }

        if (target is CelIdent { Name: "optional" } && name is "of" or "none" or "ofNonZeroValue")
        {
            return new CelCall(at, "optional." + name, null, args);
        }

        if (kind is null || args.Count is < 2 or > 3 || (args.Count == 3 && kind != CelMacroKind.Map))
        {
            return new CelCall(at, name, target, args);
        }

        if (args[0] is not CelIdent variable)
        {
            throw Error($"argument must be a simple name", args[0].Position);
        }

        return args.Count == 3
            ? new CelComprehension(at, CelMacroKind.Map, target, variable.Name, args[2], args[1])
            : new CelComprehension(at, kind.Value, target, variable.Name, args[1], null);
    }

    private CelExpr ParsePrimary()
    {
        SkipSpace();
        var at = _pos;
        if (_pos >= _text.Length)
        {
            throw Error("Syntax error: mismatched input '<EOF>'");
        }

        var c = _text[_pos];
        if (Accept("("))
        {
            var inner = ParseExpr();
            Expect(")");
            return inner;
        }

        if (Accept("["))
        {
            return new CelList(at, ParseArguments("]"));
        }

        if (Accept("{"))
        {
            var entries = new List<(CelExpr, CelExpr)>();
            SkipSpace();
            while (!Accept("}"))
            {
                var key = ParseExpr();
                Expect(":");
                entries.Add((key, ParseExpr()));
                SkipSpace();
                if (!Accept(","))
                {
                    Expect("}");
                    break;
                }

                SkipSpace();
            }

            return new CelMap(at, entries);
        }

        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1])))
        {
            return ParseNumber(negative: false, at);
        }

        if (c is '"' or '\'' || ((c is 'r' or 'R' or 'b' or 'B') && _pos + 1 < _text.Length && _text[_pos + 1] is '"' or '\'' or 'r' or 'R' or 'b' or 'B'))
        {
            if (TryParseString(out var literal))
            {
                return new CelLiteral(at, literal);
            }
        }

        // A leading dot names the root scope: .self is self.
        var rooted = Accept(".");
        var name = ParseIdentifier();
        switch (name)
        {
            case "true" when !rooted:
                return new CelLiteral(at, true);
            case "false" when !rooted:
                return new CelLiteral(at, false);
            case "null" when !rooted:
                return new CelLiteral(at, null);
        }

        if (Reserved.Contains(name) || name == "in")
        {
            throw Error($"reserved identifier: {name}", at);
        }

        SkipSpace();
        if (Accept("("))
        {
            var args = ParseArguments(")");
            if (name == "has" && !rooted)
            {
                if (args.Count != 1 || args[0] is not CelSelect { Optional: false } select)
                {
                    throw Error("invalid argument to has() macro", at);
                }

                return select with { TestOnly = true };
            }

            return new CelCall(at, name, null, args);
        }

        if (Accept("{"))
        {
            return ParseStruct(at, rooted ? "." + name : name);
        }

        return new CelIdent(at, name);
    }

    /// <summary>The dotted name a chain of selections on an identifier spells (a message type name), or null.</summary>
    private static string? QualifiedName(CelExpr expr) => expr switch
    {
        CelIdent ident => ident.Name,
        CelSelect { TestOnly: false, Optional: false } select when QualifiedName(select.Operand) is { } prefix => prefix + "." + select.Field,
        _ => null,
    };

    /// <summary>The field initializers of a message construction, after its opening brace.</summary>
    private CelStruct ParseStruct(int at, string typeName)
    {
        var fields = new List<(string, CelExpr)>();
        SkipSpace();
        while (!Accept("}"))
        {
            SkipSpace();
            var field = ParseIdentifier();
            SkipSpace();
            Expect(":");
            fields.Add((field, ParseExpr()));
            SkipSpace();
            if (!Accept(","))
            {
                Expect("}");
                break;
            }

            SkipSpace();
        }

        return new CelStruct(at, typeName, fields);
    }

    private List<CelExpr> ParseArguments(string close)
    {
        var args = new List<CelExpr>();
        SkipSpace();
        if (Accept(close))
        {
            return args;
        }

        while (true)
        {
            args.Add(ParseExpr());
            SkipSpace();
            if (Accept(close))
            {
                return args;
            }

            Expect(",");
            SkipSpace();
            // A trailing comma is allowed in list literals.
            if (close == "]" && Accept(close))
            {
                return args;
            }
        }
    }

    private string ParseIdentifier()
    {
        SkipSpace();
        var start = _pos;
        if (_pos < _text.Length && (char.IsAsciiLetter(_text[_pos]) || _text[_pos] == '_'))
        {
            _pos++;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
            {
                _pos++;
            }

            return _text[start.._pos];
        }

        var found = _pos < _text.Length ? _text[_pos].ToString() : "<EOF>";
        throw Error($"Syntax error: mismatched input '{found}' expecting IDENTIFIER");
    }

    private CelLiteral ParseNumber(bool negative, int at)
    {
        var start = _pos;
        var sign = negative ? "-" : string.Empty;
        if (Peek("0x") || Peek("0X"))
        {
            _pos += 2;
            var hexStart = _pos;
            while (_pos < _text.Length && char.IsAsciiHexDigit(_text[_pos]))
            {
                _pos++;
            }

            var digits = _text[hexStart.._pos];
            if (Accept("u") || Accept("U"))
            {
                return negative || !ulong.TryParse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u)
                    ? throw Error("invalid uint literal", at)
                    : new CelLiteral(at, u);
            }

            return System.Numerics.BigInteger.TryParse("0" + digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var big)
                   && (negative ? -big : big) is var value && value >= long.MinValue && value <= long.MaxValue
                ? new CelLiteral(at, (long)value)
                : throw Error("invalid int literal", at);
        }

        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }

        var isDouble = false;
        if (_pos + 1 < _text.Length && _text[_pos] == '.' && char.IsAsciiDigit(_text[_pos + 1]))
        {
            isDouble = true;
            _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                _pos++;
            }
        }

        if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
        {
            var save = _pos;
            _pos++;
            if (_pos < _text.Length && _text[_pos] is '+' or '-')
            {
                _pos++;
            }

            if (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                isDouble = true;
                while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                {
                    _pos++;
                }
            }
            else
            {
                _pos = save;
            }
        }

        var text = sign + _text[start.._pos];
        if (isDouble)
        {
            return new CelLiteral(at, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        if (Accept("u") || Accept("U"))
        {
            return negative || !ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var u)
                ? throw Error("invalid uint literal", at)
                : new CelLiteral(at, u);
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
            ? new CelLiteral(at, l)
            : throw Error("invalid int literal", at);
    }

    private bool TryParseString(out object? value)
    {
        var start = _pos;
        var raw = false;
        var bytes = false;
        while (_pos < _text.Length && _text[_pos] is 'r' or 'R' or 'b' or 'B')
        {
            raw |= _text[_pos] is 'r' or 'R';
            bytes |= _text[_pos] is 'b' or 'B';
            _pos++;
        }

        if (_pos >= _text.Length || _text[_pos] is not ('"' or '\'') || _pos - start > 2)
        {
            _pos = start;
            value = null;
            return false;
        }

        var quote = _text[_pos];
        var triple = _pos + 2 < _text.Length && _text[_pos + 1] == quote && _text[_pos + 2] == quote;
        var delimiter = triple ? new string(quote, 3) : quote.ToString();
        _pos += delimiter.Length;
        var builder = new StringBuilder();
        var byteBuffer = new List<byte>();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error("Syntax error: token recognition error: unterminated string", start);
            }

            if (string.CompareOrdinal(_text, _pos, delimiter, 0, delimiter.Length) == 0)
            {
                _pos += delimiter.Length;
                break;
            }

            var c = _text[_pos];
            if (!triple && c is '\n' or '\r')
            {
                throw Error("Syntax error: token recognition error: newline in string", start);
            }

            if (c == '\\' && !raw)
            {
                ParseEscape(builder, bytes ? byteBuffer : null);
                continue;
            }

            if (bytes)
            {
                byteBuffer.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
            else
            {
                builder.Append(c);
            }

            _pos++;
        }

        value = bytes ? (raw ? Encoding.UTF8.GetBytes(builder.ToString()) : byteBuffer.ToArray()) : builder.ToString();
        if (bytes && raw)
        {
            value = Encoding.UTF8.GetBytes(builder.ToString());
        }

        return true;
    }

    private void ParseEscape(StringBuilder builder, List<byte>? bytes)
    {
        var at = _pos;
        _pos++;
        if (_pos >= _text.Length)
        {
            throw Error("Syntax error: invalid escape sequence", at);
        }

        var c = _text[_pos++];
        char? simple = c switch
        {
            'a' => '\a', 'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t', 'v' => '\v',
            '\\' => '\\', '\'' => '\'', '"' => '"', '`' => '`', '?' => '?',
            _ => null,
        };
        if (simple is { } s)
        {
            if (bytes is not null)
            {
                bytes.Add((byte)s);
            }
            else
            {
                builder.Append(s);
            }

            return;
        }

        int length;
        int radix;
        switch (c)
        {
            case 'x' or 'X':
                (length, radix) = (2, 16);
                break;
            case 'u':
                (length, radix) = (4, 16);
                break;
            case 'U':
                (length, radix) = (8, 16);
                break;
            case >= '0' and <= '3':
                _pos--;
                (length, radix) = (3, 8);
                break;
            default:
                throw Error("Syntax error: invalid escape sequence", at);
        }

        if (_pos + length > _text.Length)
        {
            throw Error("Syntax error: invalid escape sequence", at);
        }

        var digits = _text.Substring(_pos, length);
        _pos += length;
        int code;
        try
        {
            code = Convert.ToInt32(digits, radix);
        }
        catch (FormatException)
        {
            throw Error("Syntax error: invalid escape sequence", at);
        }

        if (bytes is not null && length <= 3)
        {
            bytes.Add((byte)code);
        }
        else if (bytes is not null)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(char.ConvertFromUtf32(code)));
        }
        else if (code is >= 0xD800 and <= 0xDFFF || code > 0x10FFFF)
        {
            throw Error("Syntax error: invalid unicode code point", at);
        }
        else
        {
            builder.Append(char.ConvertFromUtf32(code));
        }
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length)
        {
            if (char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
            else if (Peek("//"))
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private bool Peek(char c) => _pos < _text.Length && _text[_pos] == c;

    private bool Peek(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0 && _pos + s.Length <= _text.Length;

    private bool Accept(string s)
    {
        SkipSpace();
        if (!Peek(s))
        {
            return false;
        }

        _pos += s.Length;
        return true;
    }

    private bool AcceptKeyword(string word)
    {
        SkipSpace();
        if (!Peek(word) || (_pos + word.Length < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos + word.Length]) || _text[_pos + word.Length] == '_')))
        {
            return false;
        }

        _pos += word.Length;
        return true;
    }

    private void Expect(string s)
    {
        if (!Accept(s))
        {
            var found = _pos < _text.Length ? _text[_pos].ToString() : "<EOF>";
            throw Error($"Syntax error: mismatched input '{found}' expecting '{s}'");
        }
    }
}
