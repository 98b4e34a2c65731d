using System.Buffers.Text;
using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests;

/// <summary>Service-account tokens through the real kubectl: create token (duration, audience, bound pod), whoami as the account, issuer discovery.</summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlServiceAccountTests(KubectlServer server) : IDisposable
{
    private readonly Kubectl _kubectl = new(server);
    private readonly string _ns = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-tokens").FullName;
    private bool _namespaceCreated;

    private async Task<Kubectl.Result> K(params string[] args) => await _kubectl.RunAsync(args);

    private async Task NamespaceAsync()
    {
        (await _kubectl.RunAsync(["apply", "-f", "-"], $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {_ns}\n", null)).Ok();
        _namespaceCreated = true;
    }

    [Fact]
    public async Task CreateToken_WithDurationAndAudiences_AuthenticatesAsTheAccount()
    {
        await NamespaceAsync();
        (await K("create", "serviceaccount", "robot", "-n", _ns)).Ok();
        var token = (await K("create", "token", "robot", "-n", _ns, "--duration", "20m", "--audience", "https://kubernetes.default.svc.cluster.local", "--audience", "vault")).Ok().Output.Trim();
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]))!;
        Assert.Equal(1200, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.Equal(["https://kubernetes.default.svc.cluster.local", "vault"], claims["aud"]!.AsArray().Select(a => (string)a!).ToArray());
        Assert.Equal($"system:serviceaccount:{_ns}:robot", (string?)claims["sub"]);

        var whoami = (await AsTokenAsync(token, "auth", "whoami", "-o", "json")).Ok();
        var user = JsonNode.Parse(whoami.Output)!["status"]!["userInfo"]!;
        Assert.Equal($"system:serviceaccount:{_ns}:robot", (string?)user["username"]);
        Assert.Contains($"system:serviceaccounts:{_ns}", user["groups"]!.AsArray().Select(g => (string?)g));
        (await AsTokenAsync(token, "get", "--raw", "/api")).Ok();

        var tooShort = await K("create", "token", "robot", "-n", _ns, "--duration", "5m");
        Assert.NotEqual(0, tooShort.ExitCode);
        Assert.Contains("may not specify a duration less than 10 minutes", tooShort.Error, StringComparison.Ordinal);
        var unknown = await K("create", "token", "nobody", "-n", _ns);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("serviceaccounts \"nobody\" not found", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_BoundToPod_IsRefusedOnceThePodIsDeleted()
    {
        await NamespaceAsync();
        (await K("create", "serviceaccount", "worker", "-n", _ns)).Ok();
        (await K("run", "job", "-n", _ns, "--image", "busybox", "--overrides", """{"spec":{"serviceAccountName":"worker"}}""", "--", "sleep", "3600")).Ok();
        var token = (await K("create", "token", "worker", "-n", _ns, "--bound-object-kind", "Pod", "--bound-object-name", "job")).Ok().Output.Trim();
        var claims = JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[1]))!;
        Assert.Equal("job", (string?)claims["kubernetes.io"]!["pod"]!["name"]);
        var whoami = JsonNode.Parse((await AsTokenAsync(token, "auth", "whoami", "-o", "json")).Ok().Output)!;
        Assert.Equal("job", (string?)whoami["status"]!["userInfo"]!["extra"]!["authentication.kubernetes.io/pod-name"]![0]);

        // The pod's own volume names the token the kubelet will write.
        var volumes = (await K("get", "pod", "job", "-n", _ns, "-o", "jsonpath={.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].mountPath}")).Ok().Output;
        Assert.Matches("^kube-api-access-[a-z0-9]{5} /var/run/secrets/kubernetes.io/serviceaccount$", volumes);

        (await K("delete", "pod", "job", "-n", _ns, "--grace-period=0", "--force")).Ok();
        var refused = await AsTokenAsync(token, "auth", "whoami");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Unauthorized", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewNamespace_GetsTheRootCaConfigMap_AndIssuerDiscoveryIsServed()
    {
        await NamespaceAsync();
        Kubectl.Result? found = null;
        for (var attempt = 0; attempt < 60 && found?.ExitCode != 0; attempt++)
        {
            found = await K("get", "configmap", "kube-root-ca.crt", "-n", _ns, "-o", "jsonpath={.data.ca\\.crt}");
            if (found.ExitCode != 0)
            {
                await Task.Delay(500);
            }
        }

        Assert.Equal(0, found!.ExitCode);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", found.Output, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(server.DataDir, "server", "tls", "ca.crt")), found.Output);

        var discovery = JsonNode.Parse((await K("get", "--raw", "/.well-known/openid-configuration")).Ok().Output)!;
        Assert.Equal("https://kubernetes.default.svc.cluster.local", (string?)discovery["issuer"]);
        var keys = JsonNode.Parse((await K("get", "--raw", "/openid/v1/jwks")).Ok().Output)!;
        Assert.Equal("ES256", (string?)keys["keys"]![0]!["alg"]);
    }

    /// <summary>kubectl with a kubeconfig that holds only the server, its CA and the token.</summary>
    private async Task<Kubectl.Result> AsTokenAsync(string token, params string[] args)
    {
        var path = Path.Combine(_dir, "token.kubeconfig");
        await server.WriteUserKubeconfigAsync(path, ("token", token));
        return await _kubectl.RunAsync(args, null, new Dictionary<string, string> { ["KUBECONFIG"] = path });
    }

    public void Dispose()
    {
        if (_namespaceCreated)
        {
            using var process = _kubectl.Start(["delete", "namespace", _ns, "--wait=false"]);
            process.WaitForExit(30_000);
        }

        Directory.Delete(_dir, recursive: true);
    }
}
