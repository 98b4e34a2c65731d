using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Kubesharp.E2ETests;

/// <summary>
/// A user's client certificate through CertificateSigningRequests and the real kubectl: `kubectl certificate approve`
/// (which sends the request as protobuf), the controller manager signing an RSA key with the cluster's CA, and the
/// certificate authenticating as the user.
/// </summary>
[Collection(KubectlCollection.Name)]
public sealed class KubectlCertificateTests(KubectlServer server) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Kubectl _kubectl = new(server);
    private readonly string _name = "user-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _dir = Directory.CreateTempSubdirectory("kubesharp-e2e-csr").FullName;

    private async Task<Kubectl.Result> K(params string[] args) => await _kubectl.RunAsync(args);

    [Fact]
    public async Task CertificateApprove_RsaRequestForApiServerClient_IssuesACertificateThatAuthenticates()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={_name}, O=testers", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        (await _kubectl.RunAsync(["apply", "-f", "-"], $$"""
            apiVersion: certificates.k8s.io/v1
            kind: CertificateSigningRequest
            metadata:
              name: {{_name}}
            spec:
              request: {{Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(request))}}
              signerName: kubernetes.io/kube-apiserver-client
              expirationSeconds: 3600
              usages: [digital signature, key encipherment, client auth]
            """, null)).Ok();

        var approve = (await K("certificate", "approve", _name)).Ok();
        Assert.Contains("approved", approve.Output, StringComparison.Ordinal);

        var deadline = DateTime.UtcNow + Timeout;
        var issued = string.Empty;
        while (issued.Length == 0 && DateTime.UtcNow < deadline)
        {
            issued = (await K("get", "csr", _name, "-o", "jsonpath={.status.certificate}")).Ok().Output.Trim();
            if (issued.Length == 0)
            {
                await Task.Delay(200);
            }
        }

        var conditions = (await K("get", "csr", _name)).Ok().Output;
        Assert.True(issued.Length > 0, $"the approved request was not issued within {Timeout.TotalSeconds:0} s:\n{conditions}");
        Assert.Contains("Approved,Issued", conditions, StringComparison.Ordinal);
        var certificatePem = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(issued));
        using (var certificate = X509Certificate2.CreateFromPem(certificatePem))
        {
            Assert.NotNull(certificate.GetRSAPublicKey());
            Assert.True(certificate.NotAfter - certificate.NotBefore <= TimeSpan.FromMinutes(65));
        }

        // The certificate and its key are a kubectl user of their own.
        var keyPath = Path.Combine(_dir, "user.key");
        var certificatePath = Path.Combine(_dir, "user.crt");
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(certificatePath, certificatePem);
        var kubeconfig = Path.Combine(_dir, "user.kubeconfig");
        await server.WriteUserKubeconfigAsync(kubeconfig, ("client-certificate", certificatePath), ("client-key", keyPath));
        var whoami = (await K("auth", "whoami", "-o", "json", "--kubeconfig", kubeconfig)).Ok();
        var user = JsonNode.Parse(whoami.Output)!["status"]!["userInfo"]!;
        Assert.Equal(_name, (string?)user["username"]);
        Assert.Contains("testers", user["groups"]!.AsArray().Select(g => (string?)g));
    }

    public void Dispose()
    {
        using (var process = _kubectl.Start(["delete", "csr", _name, "--ignore-not-found", "--wait=false"]))
        {
            process.WaitForExit(30_000);
        }

        Directory.Delete(_dir, recursive: true);
    }
}
