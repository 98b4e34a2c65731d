using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Cel;

namespace Kubesharp.ApiMachinery.Tests.Cel;

public sealed class CelEnvironmentTests
{
    private static readonly CelType SelfType = CelType.Object("spec", new Dictionary<string, CelType>
    {
        ["replicas"] = CelType.Int,
        ["name"] = CelType.StringOfLength(63),
        ["items"] = CelType.List(CelType.Int, 10),
        ["labels"] = CelType.Map(CelType.String, CelType.String, 10),
        ["min__dash__size"] = CelType.Int,
        ["created"] = CelType.Timestamp,
    });

    private static readonly JsonObject Self = JsonNode.Parse("""
        {"replicas": 3, "name": "Web-1", "items": [3, 1, 2], "labels": {"app": "web"}, "min-size": 2, "created": "2024-05-01T10:00:00Z"}
        """)!.AsObject();

    private static object? Run(string expression, JsonObject? old = null, long limit = 1_000_000)
    {
        var env = new CelEnvironment(new Dictionary<string, CelType> { ["self"] = SelfType, ["oldSelf"] = SelfType });
        var compiled = env.Compile(expression);
        Assert.True(compiled.Error is null, compiled.Error);
        return compiled.Program!.Evaluate(new Dictionary<string, object?> { ["self"] = CelValue.FromJson(Self, SelfType), ["oldSelf"] = CelValue.FromJson(old ?? Self, SelfType) }, limit, out _);
    }

    [Theory]
    [InlineData("self.replicas <= 5 && self.replicas > 0", true)]
    [InlineData("has(self.name) && !has(self.labels.missing)", true)]
    [InlineData("size(self.items) == 3 && self.items.size() == 3", true)]
    [InlineData("self.items.all(x, x > 0)", true)]
    [InlineData("self.items.exists(x, x == 2)", true)]
    [InlineData("self.items.exists_one(x, x > 2)", true)]
    [InlineData("self.items.map(x, x * 2) == [6, 2, 4]", true)]
    [InlineData("self.items.map(x, x > 1, x) == [3, 2]", true)]
    [InlineData("self.items.filter(x, x > 1) == [3, 2]", true)]
    [InlineData("self.labels.all(k, k == 'app')", true)]
    [InlineData("'app' in self.labels && 2 in self.items", true)]
    [InlineData("self.name.startsWith('Web') && self.name.endsWith('-1') && self.name.contains('b')", true)]
    [InlineData("self.name.matches('^[A-Z][a-z]+-[0-9]$')", true)]
    [InlineData("self.name.lowerAscii() == 'web-1' && self.name.upperAscii() == 'WEB-1'", true)]
    [InlineData("self.name.split('-') == ['Web', '1'] && ['a', 'b'].join('-') == 'a-b'", true)]
    [InlineData("self.name.indexOf('b') == 2 && self.name.substring(1, 3) == 'eb' && self.name.charAt(0) == 'W'", true)]
    [InlineData("self.name.replace('-', '_') == 'Web_1' && '  x '.trim() == 'x'", true)]
    [InlineData("self.items.isSorted() == false && [1, 2].isSorted() && self.items.sum() == 6 && self.items.min() == 1 && self.items.max() == 3", true)]
    [InlineData("self.name.find('[0-9]+') == '1' && 'a1b22'.findAll('[0-9]+') == ['1', '22']", true)]
    [InlineData("self.min__dash__size == 2", true)]
    [InlineData("self.labels.?missing.orValue('d') == 'd' && self.?replicas.orValue(7) == 3", true)]
    [InlineData("self.labels[?'app'].hasValue() && !self.labels[?'nope'].hasValue()", true)]
    [InlineData("optional.of(1).value() == 1 && !optional.none().hasValue()", true)]
    [InlineData("self.created < timestamp('2025-01-01T00:00:00Z') && duration('1h30m') == duration('90m')", true)]
    [InlineData("quantity('1Gi').isGreaterThan(quantity('1G')) && isQuantity('100m') && !isQuantity('x')", true)]
    [InlineData("url('https://example.com:8443/a').getHost() == 'example.com:8443' && isURL('/path') && !isURL('a b')", true)]
    [InlineData("self.replicas == 3 ? 'three' : 'other'", "three")]
    [InlineData("type(self.name) == string && int('12') + 1 == 13 && string(5) == '5' && double(1) == 1.0", true)]
    [InlineData("1u + 2u == 3u && 7 % 3 == 1 && -5 / 2 == -2", true)]
    [InlineData("{'a': 1}.a == 1 && {'a': 1}['a'] == 1", true)]
    [InlineData("r'\\d' == '\\\\d' && '''x''' == 'x' && \"\\u00e9\" == 'é' && size('é') == 1", true)]
    [InlineData("1 / 0 == 1 || true", true)]
    public void Evaluate_StandardAndKubernetesLibraries_AnswersAsCel(string expression, object expected)
    {
        Assert.Equal(expected, Run(expression));
    }

    [Fact]
    public void Evaluate_TransitionRule_SeesOldSelf()
    {
        var old = JsonNode.Parse("""{"replicas": 5, "name": "Web-1", "items": [], "labels": {}}""")!.AsObject();
        Assert.Equal(false, Run("self.replicas >= oldSelf.replicas", old));
        Assert.Equal(true, Run("self.name == oldSelf.name", old));
    }

    [Theory]
    [InlineData("self.replicas / 0", "division by zero")]
    [InlineData("self.replicas % 0", "modulus by zero")]
    [InlineData("9223372036854775807 + self.replicas", "integer overflow")]
    [InlineData("self.labels['nope'] == 'x'", "no such key: nope")]
    [InlineData("self.items[7] == 1", "index out of bounds: 7")]
    [InlineData("optional.none().value() == 1", "optional.none() dereference")]
    public void Evaluate_RuntimeErrors_WordedAsCel(string expression, string message)
    {
        var error = Assert.Throws<CelEvaluationException>(() => Run(expression));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("self.nope == 1", "ERROR: <input>:1:5: undefined field 'nope'\n | self.nope == 1\n | ....^")]
    [InlineData("other.x", "ERROR: <input>:1:1: undeclared reference to 'other' (in container '')\n | other.x\n | ^")]
    [InlineData("self.replicas + 'a'", "ERROR: <input>:1:15: found no matching overload for '_+_' applied to '(int, string)'\n | self.replicas + 'a'\n | ..............^")]
    [InlineData("self.name.startsWith(1)", "ERROR: <input>:1:10: found no matching overload for 'startsWith' applied to 'string.(int)'\n | self.name.startsWith(1)\n | .........^")]
    [InlineData("self.replicas ==", "ERROR: <input>:1:17: Syntax error: mismatched input '<EOF>'\n | self.replicas ==\n | ................^")]
    public void Compile_InvalidExpression_ReportsUpstreamShapedError(string expression, string error)
    {
        var env = new CelEnvironment(new Dictionary<string, CelType> { ["self"] = SelfType });
        var compiled = env.Compile(expression);
        Assert.Null(compiled.Program);
        Assert.Equal(error, compiled.Error);
    }

    [Fact]
    public void Compile_NestedLoopsOverUnboundedLists_EstimatesCostBeyondLimit()
    {
        var unbounded = CelType.Object("spec", new Dictionary<string, CelType> { ["xs"] = CelType.List(CelType.String) });
        var env = new CelEnvironment(new Dictionary<string, CelType> { ["self"] = unbounded });
        var bounded = env.Compile("self.xs.all(x, x.size() < 10)");
        var nested = env.Compile("self.xs.all(x, self.xs.all(y, x != y))");
        Assert.True(nested.EstimatedCost > 10_000_000, nested.EstimatedCost.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(bounded.EstimatedCost < nested.EstimatedCost);
        Assert.True(new CelEnvironment(new Dictionary<string, CelType> { ["self"] = SelfType }).Compile("self.items.all(x, x > 0)").EstimatedCost < 100);
    }

    [Fact]
    public void Evaluate_OverCostLimit_StopsWithCostError()
    {
        var error = Assert.Throws<CelEvaluationException>(() => Run("self.items.all(x, self.items.all(y, x + y > 0))", limit: 20));
        Assert.True(error.CostLimitExceeded);
        Assert.Equal("operation cancelled: actual cost limit exceeded", error.Message);
    }

    [Fact]
    public void Compile_ReferencesOldSelf_MarksTransitionRule()
    {
        var env = new CelEnvironment(new Dictionary<string, CelType> { ["self"] = SelfType, ["oldSelf"] = SelfType });
        Assert.True(env.Compile("self.replicas >= oldSelf.replicas").References("oldSelf"));
        Assert.False(env.Compile("self.replicas >= 1").References("oldSelf"));
    }

    [Fact]
    public void MessageConstruction_BuildsMapsOfItsFields_AndConvertsToJson()
    {
        var result = Run("""[JSONPatch{op: "add", path: "/metadata/labels/" + jsonpatch.escapeKey("example.com/a~b"), value: self.name}]""");

        Assert.Equal("""[{"op":"add","path":"/metadata/labels/example.com~1a~0b","value":"Web-1"}]""", CelValue.ToJson(result)!.ToJsonString());
    }

    [Fact]
    public void QualifiedMessageConstruction_NestsObjects()
    {
        var result = Run("""Object{metadata: Object.metadata{labels: {"size": string(self.replicas)}}, spec: Object.spec{items: self.items}}""");

        Assert.Equal("""{"metadata":{"labels":{"size":"3"}},"spec":{"items":[3,1,2]}}""", CelValue.ToJson(result)!.ToJsonString());
        Assert.Equal(3L, Run("Object{a: self.replicas}.a"));
    }

    [Fact]
    public void AuthorizerFunctions_TypeCheckOnlyOnTheAuthorizer()
    {
        var env = new CelEnvironment(new Dictionary<string, CelType> { ["authorizer"] = CelType.Authorizer, ["self"] = SelfType });

        Assert.Null(env.Compile("authorizer.group('apps').resource('deployments').subresource('scale').namespace('ns').name('x').check('update').allowed()").Error);
        Assert.Null(env.Compile("authorizer.path('/healthz').check('get').reason() == ''").Error);
        Assert.Null(env.Compile("authorizer.serviceAccount('ns', 'sa').group('').resource('pods').check('list').errored()").Error);
        Assert.NotNull(env.Compile("authorizer.resource('pods')").Error);
        Assert.NotNull(env.Compile("authorizer.group('').check('get')").Error);
    }
}
