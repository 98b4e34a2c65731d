using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery.Tests.Schema;

public sealed class SchemaTypeCheckerTests
{
    private static readonly TypeSchema Quantity = new() { Name = "io.k8s.apimachinery.pkg.api.resource.Quantity", Kind = SchemaKind.String };
    private static readonly TypeSchema Time = new() { Name = "io.k8s.apimachinery.pkg.apis.meta.v1.Time", Kind = SchemaKind.String, Format = "date-time" };

    private static readonly TypeSchema Spec = new()
    {
        Name = "io.k8s.api.apps.v1.DeploymentSpec",
        Kind = SchemaKind.Object,
        Properties = new Dictionary<string, FieldSchema>
        {
            ["replicas"] = new() { Name = "replicas", Type = new TypeSchema { Kind = SchemaKind.Integer, Format = "int32" } },
            ["grace"] = new() { Name = "grace", Type = new TypeSchema { Kind = SchemaKind.Integer, Format = "int64" } },
            ["ratio"] = new() { Name = "ratio", Type = new TypeSchema { Kind = SchemaKind.Number, Format = "double" } },
            ["paused"] = new() { Name = "paused", Type = TestSchemas.Boolean },
            ["cpu"] = new() { Name = "cpu", Type = Quantity },
            ["since"] = new() { Name = "since", Type = Time },
            ["bytes"] = new() { Name = "bytes", Type = new TypeSchema { Kind = SchemaKind.String, Format = "byte" } },
            ["port"] = new() { Name = "port", Type = TestSchemas.IntOrString },
            ["template"] = new() { Name = "template", Type = TestSchemas.Pod },
        },
    };

    private static readonly TypeSchema Deployment = new()
    {
        Name = "io.k8s.api.apps.v1.Deployment",
        Kind = SchemaKind.Object,
        Properties = new Dictionary<string, FieldSchema>
        {
            ["metadata"] = new() { Name = "metadata", Type = TestSchemas.ObjectMeta },
            ["spec"] = new() { Name = "spec", Type = Spec },
        },
    };

    private static TypeMismatch? First(string json) => SchemaTypeChecker.First(JsonNode.Parse(json), Deployment);

    [Theory]
    [InlineData("""{"spec":{"replicas":1.5}}""", "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32")]
    [InlineData("""{"spec":{"replicas":1.0}}""", "json: cannot unmarshal number 1.0 into Go struct field DeploymentSpec.spec.replicas of type int32")]
    [InlineData("""{"spec":{"replicas":2147483648}}""", "json: cannot unmarshal number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32")]
    [InlineData("""{"spec":{"grace":99999999999999999999}}""", "json: cannot unmarshal number 99999999999999999999 into Go struct field DeploymentSpec.spec.grace of type int64")]
    [InlineData("""{"spec":{"grace":1e400}}""", "json: cannot unmarshal number 1e400 into Go struct field DeploymentSpec.spec.grace of type int64")]
    [InlineData("""{"spec":{"ratio":1e400}}""", "json: cannot unmarshal number 1e400 into Go struct field DeploymentSpec.spec.ratio of type float64")]
    [InlineData("""{"spec":{"replicas":"3"}}""", "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32")]
    [InlineData("""{"spec":{"paused":"true"}}""", "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool")]
    [InlineData("""{"metadata":{"finalizers":[1]}}""", "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string")]
    [InlineData("""{"metadata":{"labels":[]}}""", "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string")]
    [InlineData("""{"metadata":"x"}""", "json: cannot unmarshal string into Go struct field Deployment.metadata of type v1.ObjectMeta")]
    [InlineData("""{"spec":{"template":{"spec":{"containers":{}}}}}""", "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container")]
    [InlineData("""{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"image":false}]}}}}""", "json: cannot unmarshal bool into Go struct field Container.spec.template.spec.containers.image of type string")]
    [InlineData("""{"spec":{"cpu":"lots"}}""", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    [InlineData("""{"spec":{"since":"yesterday"}}""", "parsing time \"yesterday\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"yesterday\" as \"2006\"")]
    [InlineData("""{"spec":{"bytes":"a b"}}""", "illegal base64 data at input byte 1")]
    [InlineData("""{"spec":{"port":1.5}}""", "json: cannot unmarshal number 1.5 into Go value of type int32")]
    [InlineData("""{"spec":{"port":true}}""", "json: cannot unmarshal bool into Go value of type int32")]
    public void First_WrongType_ReportsAsUpstreamsDecoder(string json, string message)
    {
        Assert.Equal(message, First(json)?.DecoderMessage);
    }

    [Theory]
    [InlineData("""{"spec":{"replicas":3,"grace":-9223372036854775808,"ratio":0.25,"paused":true,"cpu":"100m","since":"2024-01-01T00:00:00Z","bytes":"aGk=","port":"http"}}""")]
    [InlineData("""{"spec":{"replicas":-0,"cpu":1.5,"port":8080,"since":null,"template":null}}""")]
    [InlineData("""{"metadata":{"finalizers":["a"],"labels":{"a":"b"},"unknown":[1]},"other":{"x":1}}""")]
    public void Check_WellTyped_FindsNothing(string json)
    {
        Assert.Empty(SchemaTypeChecker.Check(JsonNode.Parse(json), Deployment));
    }

    [Fact]
    public void Check_ManyMismatches_ReportsEachWithItsFieldPathUpToTheLimit()
    {
        var found = SchemaTypeChecker.Check(JsonNode.Parse("""{"metadata":{"finalizers":[1,"ok",true]},"spec":{"replicas":1.5}}"""), Deployment);

        Assert.Equal(["metadata.finalizers[0]", "metadata.finalizers[2]", "spec.replicas"], found.Select(f => f.Field.ToString()));
        Assert.Equal("spec.replicas: Invalid value: \"number\": spec.replicas in body must be of type integer: \"number\"", found[2].ToFieldError().ToString());
        Assert.Single(SchemaTypeChecker.Check(JsonNode.Parse("""{"metadata":{"finalizers":[1,2,3]}}"""), Deployment, limit: 1));
    }

    [Fact]
    public void Check_DeepRecursiveValue_StopsAtTheDepthLimit()
    {
        var nested = new System.Text.StringBuilder();
        for (var i = 0; i < 300; i++)
        {
            nested.Append("{\"a\":");
        }

        nested.Append('1').Append('}', 300);
        var map = new TypeSchema { Kind = SchemaKind.Map };
        map.Items = map;
        Assert.Empty(SchemaTypeChecker.Check(JsonNode.Parse(nested.ToString(), documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 400 }), map));
    }

    public static TheoryData<string> Bodies => new(
    [
        """{"spec":{"replicas":1.5}}""",
        """{"spec":{"replicas":1.0}}""",
        """{"spec":{"replicas":2147483648}}""",
        """{"spec":{"grace":99999999999999999999}}""",
        """{"spec":{"grace":1e400}}""",
        """{"spec":{"ratio":1e400}}""",
        """{"spec":{"replicas":"3"}}""",
        """{"spec":{"paused":"true"}}""",
        """{"metadata":{"finalizers":[1]}}""",
        """{"metadata":{"labels":[]}}""",
        """{"metadata":"x"}""",
        """{"spec":{"template":{"spec":{"containers":{}}}}}""",
        """{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"image":false}]}}}}""",
        """{"spec":{"cpu":"lots"}}""",
        """{"spec":{"since":"yesterday"}}""",
        """{"spec":{"bytes":"a b"}}""",
        """{"spec":{"port":1.5}}""",
        """{"spec":{"port":true}}""",
        """{"spec":{"replicas":3,"grace":-9223372036854775808,"ratio":0.25,"paused":true,"cpu":"100m","since":"2024-01-01T00:00:00Z","bytes":"aGk=","port":"http"}}""",
        """{"spec":{"replicas":-0,"cpu":1.5,"port":8080,"since":null,"template":null}}""",
        """{"metadata":{"finalizers":["a"],"labels":{"a":"b"},"unknown":[1]},"other":{"x":1}}""",
        """{"metadata":{"finalizers":[1,"ok",true]},"spec":{"replicas":1.5}}""",
    ]);

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Check_ParsedDocument_ReportsWhatTheNodeTreeReports(string json)
    {
        static string Describe(TypeMismatch m) => $"{m.Field}: {m.DecoderMessage}";

        var fromNodes = SchemaTypeChecker.Check(JsonNode.Parse(json), Deployment).Select(Describe).ToList();
        var fromDocument = SchemaTypeChecker.Check(System.Text.Json.JsonElement.Parse(json), Deployment).Select(Describe).ToList();

        Assert.Equal(fromNodes, fromDocument);
        Assert.Equal(SchemaTypeChecker.First(JsonNode.Parse(json), Deployment)?.DecoderMessage, SchemaTypeChecker.First(System.Text.Json.JsonElement.Parse(json), Deployment)?.DecoderMessage);
    }
}
