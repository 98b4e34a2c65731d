using System.Text;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Selectors;

/// <summary>Lexer and recursive-descent parser of the label selector syntax, with upstream's error texts.</summary>
internal sealed class LabelSelectorParser
{
    private const string BinaryOperators = "in, notin, =, ==, !=, gt, lt";

    private readonly List<(Token Token, string Literal)> _items = [];
    private int _position;

    public LabelSelectorParser(string selector)
    {
        var lexer = new Lexer(selector);
        while (true)
        {
            var item = lexer.Next();
            _items.Add(item);
            if (item.Token == Token.EndOfString)
            {
                break;
            }
        }
    }

    private enum Token
    {
        Error,
        EndOfString,
        ClosedParenthesis,
        Comma,
        DoesNotExist,
        DoubleEquals,
        Equals,
        GreaterThan,
        Identifier,
        In,
        LessThan,
        NotEquals,
        NotIn,
        OpenParenthesis,
    }

    public List<LabelRequirement> Parse()
    {
        var requirements = new List<LabelRequirement>();
        while (true)
        {
            var (token, literal) = Lookahead(values: true);
            switch (token)
            {
                case Token.Identifier or Token.DoesNotExist:
                    requirements.Add(ParseRequirement());
                    var (next, nextLiteral) = Consume(values: true);
                    switch (next)
                    {
                        case Token.EndOfString:
                            return requirements;
                        case Token.Comma:
                            var (after, afterLiteral) = Lookahead(values: true);
                            if (after is not (Token.Identifier or Token.DoesNotExist))
                            {
                                throw Fail($"found '{afterLiteral}', expected: identifier after ','");
                            }

                            break;
                        default:
                            throw Fail($"found '{nextLiteral}', expected: ',' or 'end of string'");
                    }

                    break;
                case Token.EndOfString:
                    return requirements;
                default:
                    throw Fail($"found '{literal}', expected: !, identifier, or 'end of string'");
            }
        }
    }

    private LabelRequirement ParseRequirement()
    {
        try
        {
            var (key, op) = ParseKeyAndInferOperator();
            if (op is SelectorOperator.Exists or SelectorOperator.DoesNotExist)
            {
                return Create(key, op.Value, []);
            }

            var binary = ParseOperator();
            var values = binary is SelectorOperator.In or SelectorOperator.NotIn ? ParseValues() : ParseExactValue();
            return Create(key, binary, values);
        }
        catch (SyntaxException e)
        {
            throw Fail("unable to parse requirement: " + e.Message);
        }
    }

    private static LabelRequirement Create(string key, SelectorOperator op, IEnumerable<string> values)
    {
        var (requirement, errors) = LabelRequirement.TryCreate(key, op, values);
        return errors.Count == 0 ? requirement : throw new SyntaxException(FieldError.Aggregate(errors));
    }

    private (string Key, SelectorOperator? Operator) ParseKeyAndInferOperator()
    {
        SelectorOperator? op = null;
        var (token, literal) = Consume(values: true);
        if (token == Token.DoesNotExist)
        {
            op = SelectorOperator.DoesNotExist;
            (token, literal) = Consume(values: true);
        }

        if (token != Token.Identifier)
        {
            throw new SyntaxException($"found '{literal}', expected: identifier");
        }

        var (next, _) = Lookahead(values: true);
        if (next is Token.EndOfString or Token.Comma && op is null)
        {
            op = SelectorOperator.Exists;
        }

        return (literal, op);
    }

    private SelectorOperator ParseOperator()
    {
        var (token, literal) = Consume(values: false);
        return token switch
        {
            Token.In => SelectorOperator.In,
            Token.Equals => SelectorOperator.Equals,
            Token.DoubleEquals => SelectorOperator.DoubleEquals,
            Token.GreaterThan => SelectorOperator.GreaterThan,
            Token.LessThan => SelectorOperator.LessThan,
            Token.NotIn => SelectorOperator.NotIn,
            Token.NotEquals => SelectorOperator.NotEquals,
            _ => throw new SyntaxException($"found '{literal}', expected: {BinaryOperators}"),
        };
    }

    private List<string> ParseValues()
    {
        var (token, literal) = Consume(values: true);
        if (token != Token.OpenParenthesis)
        {
            throw new SyntaxException($"found '{literal}' expected: '('");
        }

        (token, literal) = Lookahead(values: true);
        switch (token)
        {
            case Token.Identifier or Token.Comma:
                var values = ParseIdentifiers();
                if (Consume(values: true).Token != Token.ClosedParenthesis)
                {
                    throw new SyntaxException($"found '{literal}', expected: ')'");
                }

                return values;
            case Token.ClosedParenthesis:
                Consume(values: true);
                return [""];
            default:
                throw new SyntaxException($"found '{literal}', expected: ',', ')' or identifier");
        }
    }

    private List<string> ParseIdentifiers()
    {
        var values = new List<string>();
        while (true)
        {
            var (token, literal) = Consume(values: true);
            switch (token)
            {
                case Token.Identifier:
                    values.Add(literal);
                    var (next, nextLiteral) = Lookahead(values: true);
                    switch (next)
                    {
                        case Token.Comma:
                            continue;
                        case Token.ClosedParenthesis:
                            return values;
                        default:
                            throw new SyntaxException($"found '{nextLiteral}', expected: ',' or ')'");
                    }

                case Token.Comma:
                    if (values.Count == 0)
                    {
                        values.Add("");
                    }

                    var (following, _) = Lookahead(values: true);
                    if (following == Token.ClosedParenthesis)
                    {
                        values.Add("");
                        return values;
                    }

                    if (following == Token.Comma)
                    {
                        Consume(values: true);
                        values.Add("");
                    }

                    break;
                default:
                    throw new SyntaxException($"found '{literal}', expected: ',', or identifier");
            }
        }
    }

    private List<string> ParseExactValue()
    {
        var (token, _) = Lookahead(values: true);
        if (token is Token.EndOfString or Token.Comma)
        {
            return [""];
        }

        var (consumed, literal) = Consume(values: true);
        return consumed == Token.Identifier ? [literal] : throw new SyntaxException($"found '{literal}', expected: identifier");
    }

    private (Token Token, string Literal) Lookahead(bool values)
    {
        var (token, literal) = _items[_position];
        return values && token is Token.In or Token.NotIn ? (Token.Identifier, literal) : (token, literal);
    }

    private (Token Token, string Literal) Consume(bool values)
    {
        var item = Lookahead(values);
        if (_position < _items.Count - 1)
        {
            _position++;
        }

        return item;
    }

    private static StatusException Fail(string message) => StatusException.BadRequest(message);

    private sealed class SyntaxException(string message) : Exception(message);

    private sealed class Lexer(string input)
    {
        private const string SpecialSymbols = "=!(),><";
        private int _position;

        public (Token Token, string Literal) Next()
        {
            while (_position < input.Length && input[_position] is ' ' or '\t' or '\r' or '\n')
            {
                _position++;
            }

            if (_position >= input.Length)
            {
                return (Token.EndOfString, "");
            }

            return SpecialSymbols.Contains(input[_position], StringComparison.Ordinal) ? ScanSymbol() : ScanIdentifier();
        }

        private (Token, string) ScanSymbol()
        {
            var buffer = new StringBuilder();
            (Token Token, string Literal)? last = null;
            while (_position < input.Length && SpecialSymbols.Contains(input[_position], StringComparison.Ordinal))
            {
                buffer.Append(input[_position]);
                var symbol = SymbolToken(buffer.ToString());
                if (symbol is { } t)
                {
                    last = (t, buffer.ToString());
                    _position++;
                }
                else if (last is not null)
                {
                    break;
                }
                else
                {
                    _position++;
                }
            }

            return last ?? (Token.Error, $"error expected: keyword found '{buffer}'");
        }

        private (Token, string) ScanIdentifier()
        {
            var start = _position;
            while (_position < input.Length && input[_position] is not (' ' or '\t' or '\r' or '\n')
                && !SpecialSymbols.Contains(input[_position], StringComparison.Ordinal))
            {
                _position++;
            }

            var literal = input[start.._position];
            return literal switch
            {
                "in" => (Token.In, literal),
                "notin" => (Token.NotIn, literal),
                _ => (Token.Identifier, literal),
            };
        }

        private static Token? SymbolToken(string symbol) => symbol switch
        {
            "!" => Token.DoesNotExist,
            "!=" => Token.NotEquals,
            "(" => Token.OpenParenthesis,
            ")" => Token.ClosedParenthesis,
            "," => Token.Comma,
            "=" => Token.Equals,
            "==" => Token.DoubleEquals,
            ">" => Token.GreaterThan,
            "<" => Token.LessThan,
            _ => null,
        };
    }
}
