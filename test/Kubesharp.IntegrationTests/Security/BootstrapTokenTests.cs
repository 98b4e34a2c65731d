using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Security;

/// <summary>
/// Bootstrap tokens (<c>id.secret</c>) authenticate as <c>system:bootstrap:id</c> from their Secrets in kube-system,
/// as upstream's bootstrap token authenticator: only while valid, and with exactly the rights RBAC gives their groups.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BootstrapTokenTests(TestServer server) : IAsyncLifetime
{
    private readonly List<string> _cleanup = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var path in _cleanup)
        {
            await server.SendAsync(HttpMethod.Delete, path);
        }
    }

    [Fact]
    public async Task ValidToken_AuthenticatesAsBootstrapUser_InSortedBootstrapGroups()
    {
        var (id, token) = await CreateTokenAsync(extraGroups: "system:bootstrappers:worker,system:bootstrappers:kubesharp:default-node-token");

        var (status, review) = await SendWithTokenAsync(HttpMethod.Post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token, """{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""");
        Assert.Equal(HttpStatusCode.Created, status);
        var user = review!["status"]!["userInfo"]!;
        Assert.Equal($"system:bootstrap:{id}", (string?)user["username"]);
        Assert.Equal(
            ["system:bootstrappers", "system:bootstrappers:kubesharp:default-node-token", "system:bootstrappers:worker", "system:authenticated"],
            user["groups"]!.AsArray().Select(g => (string)g!).ToArray());

        // A TokenReview answers the same for it.
        var (reviewed, body) = await server.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", $$$"""{"spec":{"token":"{{{token}}}"}}""");
        Assert.Equal(HttpStatusCode.Created, reviewed);
        Assert.True((bool)body!["status"]!["authenticated"]!);
        Assert.Equal($"system:bootstrap:{id}", (string?)body["status"]!["user"]!["username"]);
    }

    [Fact]
    public async Task Token_IsRefusedWith401_WhenWrongExpiredUsageDisabledBadGroupWrongTypeOrDeleted()
    {
        var (id, _) = await CreateTokenAsync();
        await AssertUnauthorizedAsync($"{id}.{RandomPart(16)}", "a wrong secret");

        var (_, expired) = await CreateTokenAsync(expiration: BootstrapToken.FormatExpiration(DateTimeOffset.UtcNow.AddMinutes(-1)));
        await AssertUnauthorizedAsync(expired, "an expired token");

        var (_, unparsable) = await CreateTokenAsync(expiration: "tomorrow");
        await AssertUnauthorizedAsync(unparsable, "an expiration that is not RFC 3339");

        var (_, signingOnly) = await CreateTokenAsync(authentication: "false");
        await AssertUnauthorizedAsync(signingOnly, "a token whose usage-bootstrap-authentication is not true");

        // A token may only add system:bootstrappers:* groups: one naming system:masters authenticates no one.
        var (_, masters) = await CreateTokenAsync(extraGroups: "system:bootstrappers:worker,system:masters");
        await AssertUnauthorizedAsync(masters, "a token with an extra group outside system:bootstrappers:");

        var (_, opaque) = await CreateTokenAsync(type: "Opaque");
        await AssertUnauthorizedAsync(opaque, "a Secret of another type");

        var (deletedId, deleted) = await CreateTokenAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendWithTokenAsync(HttpMethod.Get, "/api", deleted)).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(HttpMethod.Delete, SecretPath(deletedId))).Status);
        await EventuallyUnauthorizedAsync(deleted);
    }

    [Fact]
    public async Task ExtraGroups_GetWhatRbacBindsToThem_AndNothingElse()
    {
        var suffix = RandomPart(8);
        var group = $"system:bootstrappers:readers-{suffix}";
        var ns = $"bootstrap-{suffix}";
        var (_, reader) = await CreateTokenAsync(extraGroups: group);
        var (_, other) = await CreateTokenAsync(extraGroups: "system:bootstrappers:others");

        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);
        _cleanup.Add($"/api/v1/namespaces/{ns}");
        var (forbidden, refusal) = await SendWithTokenAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps", reader);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
        Assert.Contains("cannot list resource \"configmaps\"", (string?)refusal!["message"], StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
            """{"metadata":{"name":"configmap-reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]}""")).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
            $$$"""{"metadata":{"name":"readers"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"configmap-reader"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"{{{group}}}"}]}""")).Status);

        var (allowed, list) = await EventuallyStatusAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps", reader, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, allowed);
        Assert.Equal("ConfigMapList", (string?)list!["kind"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendWithTokenAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps", other)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendWithTokenAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/configmaps", reader, """{"metadata":{"name":"x"}}""")).Status);
    }

    private static string SecretPath(string id) => $"/api/v1/namespaces/kube-system/secrets/{BootstrapToken.SecretName(id)}";

    private static string RandomPart(int length) => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", length);

    private async Task<(string Id, string Token)> CreateTokenAsync(string? extraGroups = null, string? expiration = null, string authentication = "true", string type = BootstrapToken.SecretType)
    {
        var id = RandomPart(6);
        var secret = RandomPart(16);
        var data = new JsonObject
        {
            ["token-id"] = Base64(id),
            ["token-secret"] = Base64(secret),
            ["usage-bootstrap-authentication"] = Base64(authentication),
            ["usage-bootstrap-signing"] = Base64("true"),
            ["expiration"] = Base64(expiration ?? BootstrapToken.FormatExpiration(DateTimeOffset.UtcNow.AddHours(1))),
        };
        if (extraGroups is not null)
        {
            data["auth-extra-groups"] = Base64(extraGroups);
        }

        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = BootstrapToken.SecretName(id) },
            ["type"] = type,
            ["data"] = data,
        };
        var (status, _) = await server.PostAsync("/api/v1/namespaces/kube-system/secrets", body.ToJsonString());
        Assert.Equal(HttpStatusCode.Created, status);
        _cleanup.Add(SecretPath(id));

        // The authenticator reads the watch cache: wait (bounded) until a valid token is seen there.
        var token = $"{id}.{secret}";
        if (type == BootstrapToken.SecretType && authentication == "true" && expiration is null && extraGroups?.Contains("system:masters", StringComparison.Ordinal) != true)
        {
            await EventuallyStatusAsync(HttpMethod.Get, "/api", token, HttpStatusCode.OK);
        }
        else
        {
            // An invalid token's Secret is in the cache once a later write is: the revision the probe below waits for.
            await CreateTokenAsync();
        }

        return (id, token);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private async Task AssertUnauthorizedAsync(string token, string what)
    {
        var (status, body) = await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces/default/configmaps", token);
        Assert.True(status == HttpStatusCode.Unauthorized, $"{what}: expected 401, got {status}");
        Assert.Equal("Unauthorized", (string?)body!["reason"]);
    }

    private async Task EventuallyUnauthorizedAsync(string token) =>
        await EventuallyStatusAsync(HttpMethod.Get, "/api", token, HttpStatusCode.Unauthorized);

    private async Task<(HttpStatusCode Status, JsonObject? Body)> EventuallyStatusAsync(HttpMethod method, string path, string token, HttpStatusCode expected)
    {
        (HttpStatusCode Status, JsonObject? Body) answer = default;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            answer = await SendWithTokenAsync(method, path, token);
            if (answer.Status == expected)
            {
                return answer;
            }

            await Task.Delay(25);
        }

        Assert.Fail($"{method} {path} answered {answer.Status}, not {expected}, for 5 seconds");
        return answer;
    }

    private async Task<(HttpStatusCode Status, JsonObject? Body)> SendWithTokenAsync(HttpMethod method, string path, string token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await server.Anonymous.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : null);
    }
}
