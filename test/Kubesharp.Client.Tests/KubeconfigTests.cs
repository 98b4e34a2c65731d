using System.Text;

namespace Kubesharp.Client.Tests;

public sealed class KubeconfigTests
{
    [Fact]
    public void Parse_CurrentContextWithInlineData_ResolvesClusterAndUser()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: other
              cluster:
                server: https://10.0.0.1:6443
            - name: local
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: {B64("CA")}
            users:
            - name: admin
              user:
                client-certificate-data: {B64("CERT")}
                client-key-data: {B64("KEY")}
            contexts:
            - name: main
              context:
                cluster: local
                user: admin
            current-context: main
            """;

        var options = Kubeconfig.Parse(text, "/", null);

        Assert.Equal(new Uri("https://127.0.0.1:6443"), options.Server);
        Assert.Equal("CA", options.CertificateAuthorityPem);
        Assert.Equal("CERT", options.ClientCertificatePem);
        Assert.Equal("KEY", options.ClientKeyPem);
    }

    [Fact]
    public void Parse_UnknownContext_Throws() =>
        Assert.Throws<InvalidDataException>(() => Kubeconfig.Parse("current-context: x\ncontexts: []\n", "/", null));
}
