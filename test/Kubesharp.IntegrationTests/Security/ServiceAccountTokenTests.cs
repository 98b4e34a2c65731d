using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Security.ServiceAccountTokens;
using Kubesharp.IntegrationTests.ApiServer;

namespace Kubesharp.IntegrationTests.Security;

[Collection(ServerCollection.Name)]
public sealed class ServiceAccountTokenTests(TestServer server)
{
    private const string Issuer = ServiceAccountTokenIssuer.DefaultIssuer;

    [Fact]
    public async Task TokenRequest_ForServiceAccount_ReturnsTokenThatAuthenticatesAsTheAccount()
    {
        var (name, uid) = await CreateServiceAccountAsync();
        var before = DateTimeOffset.UtcNow;
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{name}/token", """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("TokenRequest", (string?)body!["kind"]);
        Assert.Equal(3600, (long)body["spec"]!["expirationSeconds"]!);
        Assert.Equal(Issuer, (string?)body["spec"]!["audiences"]![0]);
        var expires = DateTimeOffset.Parse((string)body["status"]!["expirationTimestamp"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, before.AddSeconds(3599), DateTimeOffset.UtcNow.AddSeconds(3601));

        var token = (string)body["status"]!["token"]!;
        var claims = Payload(token);
        Assert.Equal(Issuer, (string?)claims["iss"]);
        Assert.Equal($"system:serviceaccount:default:{name}", (string?)claims["sub"]);
        Assert.Equal(uid, (string?)claims["kubernetes.io"]!["serviceaccount"]!["uid"]);
        Assert.Equal((long)claims["iat"]!, (long)claims["nbf"]!);

        var (reviewStatus, review) = await SendWithTokenAsync(HttpMethod.Post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token, """{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""");
        Assert.Equal(HttpStatusCode.Created, reviewStatus);
        var user = review!["status"]!["userInfo"]!;
        Assert.Equal($"system:serviceaccount:default:{name}", (string?)user["username"]);
        Assert.Equal(uid, (string?)user["uid"]);
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"], user["groups"]!.AsArray().Select(g => (string)g!).ToArray());
        Assert.StartsWith("JTI=", (string?)user["extra"]!["authentication.kubernetes.io/credential-id"]![0], StringComparison.Ordinal);

        var (getStatus, _) = await SendWithTokenAsync(HttpMethod.Get, "/api", token);
        Assert.Equal(HttpStatusCode.OK, getStatus);
    }

    [Theory]
    [InlineData(599, "may not specify a duration less than 10 minutes")]
    [InlineData(4294967297, "may not specify a duration larger than 2^32 seconds")]
    public async Task TokenRequest_WithExpirationOutOfRange_Is422(long seconds, string message)
    {
        var (name, _) = await CreateServiceAccountAsync();
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{name}/token", $$$$"""{"spec":{"expirationSeconds":{{{{seconds}}}}}}""");
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Equal("Invalid", (string?)body!["reason"]);
        Assert.Equal($"TokenRequest.authentication.k8s.io \"{name}\" is invalid: spec.expirationSeconds: Invalid value: {seconds}: {message}", (string?)body["message"]);
    }

    [Fact]
    public async Task TokenRequest_ForMissingServiceAccount_Is404()
    {
        var (status, body) = await server.PostAsync("/api/v1/namespaces/default/serviceaccounts/nobody-here/token", """{"spec":{}}""");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("serviceaccounts \"nobody-here\" not found", (string?)body!["message"]);
    }

    [Fact]
    public async Task BoundToPod_TokenNamesThePod_AndStopsWorkingWhenThePodIsDeleted()
    {
        var (name, _) = await CreateServiceAccountAsync();
        var pod = "p-" + Guid.NewGuid().ToString("N")[..8];
        var (created, podBody) = await server.PostAsync("/api/v1/namespaces/default/pods", $$$$"""{"metadata":{"name":"{{{{pod}}}}"},"spec":{"serviceAccountName":"{{{{name}}}}","containers":[{"name":"c","image":"busybox"}]}}""");
        Assert.Equal(HttpStatusCode.Created, created);
        var podUid = (string)podBody!["metadata"]!["uid"]!;

        var (status, body) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{name}/token", $$$$"""{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"{{{{pod}}}}"}}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(podUid, (string?)body!["spec"]!["boundObjectRef"]!["uid"]);
        var token = (string)body["status"]!["token"]!;
        Assert.Equal(podUid, (string?)Payload(token)["kubernetes.io"]!["pod"]!["uid"]);

        var (review, reviewed) = await server.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", $$$$"""{"spec":{"token":"{{{{token}}}}"}}""");
        Assert.Equal(HttpStatusCode.Created, review);
        Assert.True((bool)reviewed!["status"]!["authenticated"]!);
        Assert.Equal(pod, (string?)reviewed["status"]!["user"]!["extra"]!["authentication.kubernetes.io/pod-name"]![0]);
        Assert.Equal(Issuer, (string?)reviewed["status"]!["audiences"]![0]);

        var (deleted, _) = await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/pods/{pod}?gracePeriodSeconds=0");
        Assert.Equal(HttpStatusCode.OK, deleted);
        var (after, _) = await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods", token);
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        var (_, rejected) = await server.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", $$$$"""{"spec":{"token":"{{{{token}}}}"}}""");
        Assert.Null(rejected!["status"]!["authenticated"]);
    }

    [Fact]
    public async Task BoundToPod_WithStaleUidOrAnotherAccountsPod_IsRefused()
    {
        var (name, _) = await CreateServiceAccountAsync();
        var pod = "p-" + Guid.NewGuid().ToString("N")[..8];
        var (created, _) = await server.PostAsync("/api/v1/namespaces/default/pods", $$$$"""{"metadata":{"name":"{{{{pod}}}}"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        Assert.Equal(HttpStatusCode.Created, created);

        var (otherAccount, body) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{name}/token", $$$$"""{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"{{{{pod}}}}"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, otherAccount);
        Assert.Equal($"cannot bind token for serviceaccount \"{name}\" to pod running with different serviceaccount name.", (string?)body!["message"]);

        var (stale, staleBody) = await server.PostAsync("/api/v1/namespaces/default/serviceaccounts/" + name + "/token", $$$$"""{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"{{{{pod}}}}","uid":"00000000-0000-0000-0000-000000000000"}}}""");
        Assert.Equal(HttpStatusCode.Conflict, stale);
        Assert.Contains("does not match the UID in record", (string?)staleBody!["message"], StringComparison.Ordinal);

        var (missing, _) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{name}/token", """{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"no-such-pod"}}}""");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        var (wrongKind, _) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{name}/token", """{"spec":{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"x"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, wrongKind);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/pods/{pod}?gracePeriodSeconds=0");
    }

    [Fact]
    public async Task BoundToSecret_StopsWorkingWhenTheSecretIsDeleted()
    {
        var (name, _) = await CreateServiceAccountAsync();
        var secret = "s-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/secrets", $$$$"""{"metadata":{"name":"{{{{secret}}}}"}}""")).Status);
        var token = await TokenAsync(name, $$$$"""{"spec":{"boundObjectRef":{"kind":"Secret","apiVersion":"v1","name":"{{{{secret}}}}"}}}""");
        Assert.Equal(HttpStatusCode.OK, (await SendWithTokenAsync(HttpMethod.Get, "/api", token)).Status);
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/secrets/{secret}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces/default/secrets", token)).Status);
    }

    [Fact]
    public async Task DeletedOrRecreatedServiceAccount_TokenIsRejected()
    {
        var (name, _) = await CreateServiceAccountAsync();
        var token = await TokenAsync(name, """{"spec":{}}""");
        await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/serviceaccounts/{name}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", token)).Status);
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces/default/serviceaccounts", $$$$"""{"metadata":{"name":"{{{{name}}}}"}}""")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", token)).Status);
    }

    [Fact]
    public async Task TokenForAnotherAudience_IsNotAcceptedByTheApi_ButReviewsForThatAudience()
    {
        var (name, _) = await CreateServiceAccountAsync();
        var token = await TokenAsync(name, """{"spec":{"audiences":["vault","other"]}}""");
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", token)).Status);

        var (_, forVault) = await server.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", $$$$"""{"spec":{"token":"{{{{token}}}}","audiences":["vault","elsewhere"]}}""");
        Assert.True((bool)forVault!["status"]!["authenticated"]!);
        Assert.Equal(["vault"], forVault["status"]!["audiences"]!.AsArray().Select(a => (string)a!).ToArray());
        var (_, forApi) = await server.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", $$$$"""{"spec":{"token":"{{{{token}}}}"}}""");
        Assert.Null(forApi!["status"]!["authenticated"]);
    }

    [Fact]
    public async Task ExpiredNotYetValidOrForeignTokens_AreRejected()
    {
        var (name, uid) = await CreateServiceAccountAsync();
        var claims = new ServiceAccountTokenClaims("default", new BoundObject(name, uid));
        // The server's own key from its data directory, issuing with clocks two hours behind and one hour ahead.
        using var key = ServiceAccountSigningKey.LoadOrCreate(server.DataDir);
        var past = new ServiceAccountTokenIssuer(key, Issuer, [Issuer], new ShiftedClock(TimeSpan.FromHours(-2)));
        var future = new ServiceAccountTokenIssuer(key, Issuer, [Issuer], new ShiftedClock(TimeSpan.FromHours(1)));
        var current = new ServiceAccountTokenIssuer(key, Issuer, [Issuer], TimeProvider.System);
        Assert.Equal(HttpStatusCode.OK, (await SendWithTokenAsync(HttpMethod.Get, "/api", current.Issue(claims, [Issuer], 600).Token)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", past.Issue(claims, [Issuer], 3600).Token)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", future.Issue(claims, [Issuer], 7200).Token)).Status);

        var otherDir = Directory.CreateTempSubdirectory("ks-key-").FullName;
        try
        {
            using var foreignKey = ServiceAccountSigningKey.LoadOrCreate(otherDir);
            var foreign = new ServiceAccountTokenIssuer(foreignKey, Issuer, [Issuer], TimeProvider.System);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", foreign.Issue(claims, [Issuer], 600).Token)).Status);
            var otherIssuer = new ServiceAccountTokenIssuer(key, "https://elsewhere.example", [Issuer], TimeProvider.System);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendWithTokenAsync(HttpMethod.Get, "/api/v1/namespaces", otherIssuer.Issue(claims, [Issuer], 600).Token)).Status);
        }
        finally
        {
            Directory.Delete(otherDir, recursive: true);
        }
    }

    [Fact]
    public async Task OidcDiscovery_IsPublic_AndItsKeySetVerifiesIssuedTokens()
    {
        using var configurationResponse = await server.Anonymous.GetAsync("/.well-known/openid-configuration");
        Assert.Equal(HttpStatusCode.OK, configurationResponse.StatusCode);
        var configuration = JsonNode.Parse(await configurationResponse.Content.ReadAsStringAsync())!;
        Assert.Equal(Issuer, (string?)configuration["issuer"]);
        Assert.Equal(new Uri(server.Host.Url, "/openid/v1/jwks").ToString(), (string?)configuration["jwks_uri"]);
        // A key made by this version is ECDSA P-256.
        Assert.Equal("ES256", (string?)configuration["id_token_signing_alg_values_supported"]![0]);

        using var keysResponse = await server.Anonymous.GetAsync(new Uri((string)configuration["jwks_uri"]!).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, keysResponse.StatusCode);
        Assert.Equal("application/jwk-set+json", keysResponse.Content.Headers.ContentType?.MediaType);
        var jwk = JsonNode.Parse(await keysResponse.Content.ReadAsStringAsync())!["keys"]![0]!;
        Assert.Equal("EC", (string?)jwk["kty"]);
        Assert.Equal("P-256", (string?)jwk["crv"]);
        Assert.Equal("ES256", (string?)jwk["alg"]);

        var (name, _) = await CreateServiceAccountAsync();
        var token = await TokenAsync(name, """{"spec":{}}""");
        var parts = token.Split('.');
        var header = JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!;
        Assert.Equal((string?)jwk["kid"], (string?)header["kid"]);
        Assert.Equal("ES256", (string?)header["alg"]);
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.DecodeFromChars((string)jwk["x"]!), Y = Base64Url.DecodeFromChars((string)jwk["y"]!) },
        });
        // JWS carries r and s as two fixed 32-byte fields (RFC 7518 section 3.4).
        var signature = Base64Url.DecodeFromChars(parts[2]);
        Assert.Equal(64, signature.Length);
        Assert.True(ecdsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        var tampered = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1] + "x");
        Assert.False(ecdsa.VerifyData(tampered, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public async Task SigningKey_RsaKeyOfAnEarlierVersion_KeepsSigningAndVerifyingRs256()
    {
        var dataDir = Directory.CreateTempSubdirectory("ks-rsa-key-").FullName;
        try
        {
            // A data directory from before ECDSA keys: its RSA key stays, and so do the tokens it signed.
            var path = ServiceAccountSigningKey.PathIn(dataDir);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var rsa = RSA.Create(2048))
            {
                await File.WriteAllTextAsync(path, rsa.ExportRSAPrivateKeyPem());
            }

            using var key = ServiceAccountSigningKey.LoadOrCreate(dataDir);
            Assert.Equal("RS256", key.Algorithm);
            var jwk = key.ToJwk();
            Assert.Equal("RSA", (string?)jwk["kty"]);
            var (name, uid) = await CreateServiceAccountAsync();
            var issued = new ServiceAccountTokenIssuer(key, Issuer, [Issuer], TimeProvider.System).Issue(new ServiceAccountTokenClaims("default", new BoundObject(name, uid)), [Issuer], 600).Token;
            var parts = issued.Split('.');
            Assert.Equal("RS256", (string?)JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!["alg"]);
            using var publicKey = RSA.Create(new RSAParameters { Modulus = Base64Url.DecodeFromChars((string)jwk["n"]!), Exponent = Base64Url.DecodeFromChars((string)jwk["e"]!) });
            Assert.True(publicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            Assert.True(key.Verify(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2])));
            // Loaded again it is the same key, not a new one.
            using var again = ServiceAccountSigningKey.LoadOrCreate(dataDir);
            Assert.Equal(key.KeyId, again.KeyId);
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public void SigningKey_IsCreatedOnceInTheDataDirectory_AndSharedByWhoeverLoadsIt()
    {
        var path = ServiceAccountSigningKey.PathIn(server.DataDir);
        Assert.True(File.Exists(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        using var again = ServiceAccountSigningKey.LoadOrCreate(server.DataDir);
        Assert.Equal(server.Host.IssuerDiscovery!.KeySet()["keys"]![0]!["kid"]!.GetValue<string>(), again.KeyId);
    }

    private async Task<(string Name, string Uid)> CreateServiceAccountAsync()
    {
        var name = "sa-" + Guid.NewGuid().ToString("N")[..8];
        var (status, body) = await server.PostAsync("/api/v1/namespaces/default/serviceaccounts", $$$$"""{"metadata":{"name":"{{{{name}}}}"}}""");
        Assert.Equal(HttpStatusCode.Created, status);
        return (name, (string)body!["metadata"]!["uid"]!);
    }

    private async Task<string> TokenAsync(string account, string request)
    {
        var (status, body) = await server.PostAsync($"/api/v1/namespaces/default/serviceaccounts/{account}/token", request);
        Assert.Equal(HttpStatusCode.Created, status);
        return (string)body!["status"]!["token"]!;
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

    private static JsonObject Payload(string token) => JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]))!.AsObject();

    private sealed class ShiftedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
