using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>NetworkPolicies through the API: upstream's defaults, and 422 with the field path of each problem.</summary>
[Collection(ServerCollection.Name)]
public sealed class NetworkPolicyValidationTests(TestServer server)
{
    private const string Path = "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies";

    private static string Name() => "np-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Create_WithoutTypesOrProtocols_DefaultedAsUpstream()
    {
        var name = Name();
        var (status, created) = await server.PostAsync(Path, $$$"""
            {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"{{{name}}}"},
             "spec":{"egress":[{"ports":[{"port":53}]}],"ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}]}]}}
            """);

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(["Ingress", "Egress"], ((JsonArray)created!["spec"]!["policyTypes"]!).Select(t => (string?)t));
        Assert.Equal("TCP", (string?)created["spec"]!["egress"]![0]!["ports"]![0]!["protocol"]);
        Assert.NotNull(created["spec"]!["podSelector"]);

        var (_, ingressOnly) = await server.PostAsync(Path, "{\"metadata\":{\"name\":\"" + Name() + "\"},\"spec\":{\"podSelector\":{}}}");
        Assert.Equal(["Ingress"], ((JsonArray)ingressOnly!["spec"]!["policyTypes"]!).Select(t => (string?)t));
    }

    [Theory]
    [InlineData("""{"policyTypes":["Sideways"]}""", "spec.policyTypes[0]", "FieldValueNotSupported")]
    [InlineData("""{"policyTypes":["Ingress","Egress","Ingress"]}""", "spec.policyTypes", "FieldValueInvalid")]
    [InlineData("""{"ingress":[{"ports":[{"protocol":"ICMP"}]}]}""", "spec.ingress[0].ports[0].protocol", "FieldValueNotSupported")]
    [InlineData("""{"ingress":[{"ports":[{"port":70000}]}]}""", "spec.ingress[0].ports[0].port", "FieldValueInvalid")]
    [InlineData("""{"ingress":[{"ports":[{"port":90,"endPort":80}]}]}""", "spec.ingress[0].ports[0].endPort", "FieldValueInvalid")]
    [InlineData("""{"ingress":[{"ports":[{"port":"http","endPort":80}]}]}""", "spec.ingress[0].ports[0].endPort", "FieldValueInvalid")]
    [InlineData("""{"ingress":[{"ports":[{"endPort":80}]}]}""", "spec.ingress[0].ports[0].endPort", "FieldValueInvalid")]
    [InlineData("""{"ingress":[{"ports":[{"port":"Not_A_Name"}]}]}""", "spec.ingress[0].ports[0].port", "FieldValueInvalid")]
    [InlineData("""{"ingress":[{"from":[{}]}]}""", "spec.ingress[0].from[0]", "FieldValueRequired")]
    [InlineData("""{"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8"},"podSelector":{}}]}]}""", "spec.egress[0].to[0]", "FieldValueForbidden")]
    [InlineData("""{"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0/8"}}]}]}""", "spec.egress[0].to[0].ipBlock.cidr", "FieldValueInvalid")]
    [InlineData("""{"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["11.0.0.0/16"]}}]}]}""", "spec.egress[0].to[0].ipBlock.except[0]", "FieldValueInvalid")]
    [InlineData("""{"egress":[{"to":[{"ipBlock":{}}]}]}""", "spec.egress[0].to[0].ipBlock.cidr", "FieldValueRequired")]
    [InlineData("""{"podSelector":{"matchExpressions":[{"key":"app","operator":"In"}]}}""", "spec.podSelector.matchExpressions[0].values", "FieldValueRequired")]
    [InlineData("""{"podSelector":{"matchExpressions":[{"key":"app","operator":"Near"}]}}""", "spec.podSelector.matchExpressions[0].operator", "FieldValueInvalid")]
    public async Task Create_InvalidSpec_Answers422WithFieldPath(string spec, string field, string reason)
    {
        var (status, response) = await server.PostAsync(Path, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"" + Name() + "\"},\"spec\":" + spec + "}");

        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal("Invalid", (string?)response!["reason"]);
        Assert.Contains(((JsonArray)response["details"]!["causes"]!), c => (string?)c!["field"] == field && (string?)c["reason"] == reason);
    }
}
