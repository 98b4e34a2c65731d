using System.Net;
using System.Text.Json.Nodes;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>Wrong-typed values are refused before they are stored, on every write path, dry run included.</summary>
[Collection(ServerCollection.Name)]
public sealed class TypeCheckTests(TestServer server)
{
    private const string Pod = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME"},"spec":{"containers":[{"name":"c","image":"busybox"}]SPEC}}""";
    private const string Deployment = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"NAME"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}SPEC}}""";
    private const string Service = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"NAME"},"spec":{"type":"NodePort","ports":[{"port":80SPEC}]}}""";

    public static TheoryData<string, string, string> WrongTypes() => new()
    {
        { "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"NAME"},"data":{"k":1}}""", "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string" },
        { "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"NAME","finalizers":[1]}}""", "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string" },
        { "/api/v1/namespaces/default/configmaps", """{"metadata":{"name":"NAME"},"immutable":"yes"}""", "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool" },
        { "/api/v1/namespaces/default/secrets", """{"metadata":{"name":"NAME"},"data":{"k":"not base64!"}}""", "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 3" },
        { "/apis/apps/v1/namespaces/default/deployments", Deployment.Replace("SPEC", ",\"replicas\":1.5"), "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32" },
        { "/apis/apps/v1/namespaces/default/deployments", Deployment.Replace("SPEC", ",\"replicas\":99999999999999999999"), "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 99999999999999999999 into Go struct field DeploymentSpec.spec.replicas of type int32" },
        { "/apis/apps/v1/namespaces/default/deployments", Deployment.Replace("SPEC", ",\"replicas\":3000000000"), "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32" },
        { "/api/v1/namespaces/default/pods", Pod.Replace("SPEC", ",\"terminationGracePeriodSeconds\":1e400"), "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 1e400 into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64" },
        { "/api/v1/namespaces/default/pods", Pod.Replace("]SPEC", ",{\"name\":\"d\",\"image\":7}]"), "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string" },
        { "/api/v1/namespaces/default/pods", Pod.Replace("]SPEC", "],\"volumes\":{}"), "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal object into Go struct field PodSpec.spec.volumes of type []v1.Volume" },
        { "/api/v1/namespaces/default/pods", Pod.Replace("\"busybox\"}", "\"busybox\",\"resources\":{\"limits\":{\"cpu\":\"lots\"}}}").Replace("SPEC", string.Empty), "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" },
        { "/api/v1/namespaces/default/services", Service.Replace("SPEC", ",\"nodePort\":1.5"), "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number 1.5 into Go struct field ServicePort.spec.ports.nodePort of type int32" },
        { "/api/v1/namespaces/default/services", Service.Replace("SPEC", ",\"targetPort\":1.5"), "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number 1.5 into Go value of type int32" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task Create_WrongType_Answers400AndStoresNothing(string collection, string body, string message)
    {
        var name = "tc" + Guid.NewGuid().ToString("N")[..8];
        body = body.Replace("NAME", name, StringComparison.Ordinal);
        foreach (var dryRun in new[] { "?dryRun=All", string.Empty })
        {
            var (status, response) = await server.PostAsync(collection + dryRun, body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("BadRequest", (string?)response!["reason"]);
            Assert.Equal(message, (string?)response["message"]);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync($"{collection}/{name}")).Status);
    }

    [Fact]
    public async Task UpdateAndApply_WrongType_Answer400()
    {
        var name = "tc" + Guid.NewGuid().ToString("N")[..8];
        var path = $"/api/v1/namespaces/default/configmaps/{name}";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":\"v\"}}")).Status);

        var (put, _) = await server.SendAsync(HttpMethod.Put, path, "{\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":true}}");
        var (apply, _) = await server.SendAsync(HttpMethod.Patch, path + "?fieldManager=t&dryRun=All", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  k: [1]\n", "application/apply-patch+yaml");

        Assert.Equal(HttpStatusCode.BadRequest, put);
        Assert.Equal(HttpStatusCode.BadRequest, apply);
        Assert.Equal("v", (string?)(await server.GetAsync(path)).Body!["data"]!["k"]);
        await server.SendAsync(HttpMethod.Delete, path);
    }

    [Theory]
    [InlineData("application/merge-patch+json", """{"spec":{"replicas":1.5}}""")]
    [InlineData("application/strategic-merge-patch+json", """{"spec":{"replicas":"two"}}""")]
    [InlineData("application/json-patch+json", """[{"op":"replace","path":"/spec/replicas","value":99999999999999999999}]""")]
    [InlineData("application/json-patch+json", """[{"op":"add","path":"/metadata/finalizers","value":[1]}]""")]
    public async Task Patch_ProducingWrongType_Answers422OnPatch(string contentType, string patch)
    {
        var name = "tc" + Guid.NewGuid().ToString("N")[..8];
        var path = $"/apis/apps/v1/namespaces/default/deployments/{name}";
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/apis/apps/v1/namespaces/default/deployments", Deployment.Replace("NAME", name, StringComparison.Ordinal).Replace("SPEC", string.Empty, StringComparison.Ordinal))).Status);

        foreach (var dryRun in new[] { "?dryRun=All", string.Empty })
        {
            var (status, response) = await server.SendAsync(HttpMethod.Patch, path + dryRun, patch, contentType);
            Assert.Equal((HttpStatusCode)422, status);
            Assert.Equal("Invalid", (string?)response!["reason"]);
            Assert.Equal("patch", (string?)response["details"]!["causes"]![0]!["field"]);
            Assert.Contains("json: cannot unmarshal", (string?)response["message"], StringComparison.Ordinal);
        }

        var (_, stored) = await server.GetAsync(path);
        Assert.Equal(1, (int?)stored!["spec"]!["replicas"]);
        Assert.Null(stored["metadata"]!["finalizers"]);
        await server.SendAsync(HttpMethod.Delete, path);
    }

    [Fact]
    public async Task Create_WellTypedValues_AreAccepted()
    {
        var name = "tc" + Guid.NewGuid().ToString("N")[..8];
        var pod = Pod.Replace("NAME", name, StringComparison.Ordinal)
            .Replace("\"busybox\"}", "\"busybox\",\"resources\":{\"limits\":{\"cpu\":1,\"memory\":\"64Mi\"}},\"ports\":[{\"containerPort\":80}]}", StringComparison.Ordinal)
            .Replace("SPEC", ",\"terminationGracePeriodSeconds\":-0,\"activeDeadlineSeconds\":null", StringComparison.Ordinal);
        var (status, body) = await server.PostAsync("/api/v1/namespaces/default/pods?dryRun=All", pod);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(name, (string?)body!["metadata"]!["name"]);
    }
}
