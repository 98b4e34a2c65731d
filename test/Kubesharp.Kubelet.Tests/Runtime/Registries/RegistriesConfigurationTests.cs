using Kubesharp.Kubelet.Runtime;
using Kubesharp.Kubelet.Runtime.Registries;

namespace Kubesharp.Kubelet.Tests.Runtime.Registries;

/// <summary>A k3s-style registries.yaml read and translated into containerd's hosts files and registry credentials.</summary>
public sealed class RegistriesConfigurationTests
{
    private const string K3sExample = """
        mirrors:
          docker.io:
            endpoint:
              - "https://mirror.example.com:5000"
              - "http://10.0.0.5:5000/cache"
            rewrite:
              "^library/(.*)": "mirrored/$1"
          "*":
            endpoint: ["mirror.example.com:5000"]
        configs:
          "mirror.example.com:5000":
            auth:
              username: robot
              password: "s3cr\"et"
            tls:
              ca_file: /etc/ssl/registry-ca.crt
              cert_file: /etc/ssl/client.crt
              key_file: /etc/ssl/client.key
          registry.internal:
            tls:
              insecure_skip_verify: true
            auth:
              auth: cm9ib3Q6cGFzcw==
        """;

    [Fact]
    public void Parse_K3sExample_ReadsMirrorsAndConfigs()
    {
        var registries = RegistriesConfiguration.Parse(K3sExample);

        Assert.Equal(["https://mirror.example.com:5000/", "http://10.0.0.5:5000/cache"], registries.Mirrors["docker.io"].Endpoints.Select(e => e.ToString()));
        Assert.Equal("mirrored/$1", registries.Mirrors["docker.io"].Rewrites["^library/(.*)"]);
        Assert.Equal("https://mirror.example.com:5000/", Assert.Single(registries.Mirrors["*"].Endpoints).ToString());
        var mirror = registries.Configs["mirror.example.com:5000"];
        Assert.Equal(new RegistryAuth("robot", "s3cr\"et", null, null), mirror.Auth);
        Assert.Equal(new RegistryTls("/etc/ssl/registry-ca.crt", "/etc/ssl/client.crt", "/etc/ssl/client.key", false), mirror.Tls);
        Assert.True(registries.Configs["registry.internal"].Tls!.InsecureSkipVerify);
    }

    [Theory]
    [InlineData("mirror: {}", "unknown field \"mirror\"")]
    [InlineData("mirrors:\n  docker.io:\n    endpoint: https://one", "mirrors.docker.io.endpoint: a list is expected")]
    [InlineData("mirrors:\n  docker.io:\n    endpoint: [\"ftp://x\"]", "is not an http or https URL")]
    [InlineData("mirrors:\n  docker.io:\n    endpoints: []", "unknown field \"endpoints\"")]
    [InlineData("mirrors:\n  \"a/b\":\n    endpoint: []", "is not a registry host")]
    [InlineData("configs:\n  r:\n    tls:\n      cert_file: /c", "cert_file and key_file go together")]
    [InlineData("configs:\n  r:\n    tls:\n      insecure_skip_verify: maybe", "a boolean is expected")]
    [InlineData("mirrors:\n  docker.io:\n    rewrite:\n      \"(\": x", "is not a regular expression")]
    [InlineData("[1, 2]", "a mapping with mirrors and configs")]
    [InlineData("mirrors: [", "yaml")]
    public void Parse_MalformedFile_ThrowsWithWhere(string yaml, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => RegistriesConfiguration.Parse(yaml));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_IsEmpty()
    {
        var registries = RegistriesConfiguration.Load(Path.Combine(Path.GetTempPath(), "no-such-registries-" + Guid.NewGuid().ToString("N") + ".yaml"));

        Assert.Empty(registries.Mirrors);
        Assert.Empty(registries.Configs);
    }

    [Fact]
    public void RenderRegistryHosts_DockerIoMirrors_ListsEndpointsInOrderWithTheirHostsTlsThenUpstream()
    {
        var toml = ContainerdConfig.RenderRegistryHosts("docker.io", RegistriesConfiguration.Parse(K3sExample));

        Assert.Equal(
            """
            server = "https://registry-1.docker.io"

            [host."https://mirror.example.com:5000"]
              capabilities = ["pull", "resolve"]
              ca = "/etc/ssl/registry-ca.crt"
              client = [["/etc/ssl/client.crt", "/etc/ssl/client.key"]]

            [host."http://10.0.0.5:5000/cache"]
              capabilities = ["pull", "resolve"]

            """,
            toml);
    }

    [Fact]
    public void RenderRegistryHosts_ConfigWithoutMirror_AppliesTlsToTheRegistryItself()
    {
        var toml = ContainerdConfig.RenderRegistryHosts("registry.internal", RegistriesConfiguration.Parse(K3sExample));

        Assert.Equal("server = \"https://registry.internal\"\nskip_verify = true\n", toml);
    }

    [Fact]
    public void RenderRegistryHosts_PlainHttpMirrorEndpointHost_IsPlainHttpItself()
    {
        var toml = ContainerdConfig.RenderRegistryHosts("10.0.0.5:5000", RegistriesConfiguration.Parse(K3sExample));

        Assert.Equal("server = \"http://10.0.0.5:5000\"\n", toml);
    }

    [Theory]
    [InlineData("busybox", "mirror.example.com:5000/mirrored/busybox:latest", "10.0.0.5:5000/cache/mirrored/busybox:latest")]
    [InlineData("docker.io/library/nginx:1.25@sha256:abcd", "mirror.example.com:5000/mirrored/nginx:1.25@sha256:abcd", "10.0.0.5:5000/cache/mirrored/nginx:1.25@sha256:abcd")]
    public void RewrittenReferences_RuleMatches_RewritesTheRepositoryOnEachEndpoint(string image, string first, string second)
    {
        var references = RegistriesConfiguration.Parse(K3sExample).RewrittenReferences(image);

        Assert.Equal([first, second], references);
    }

    [Theory]
    [InlineData("rancher/coredns:1.6")]
    [InlineData("quay.io/library/busybox:1")]
    public void RewrittenReferences_NoRuleMatches_IsEmpty(string image)
    {
        Assert.Empty(RegistriesConfiguration.Parse(K3sExample).RewrittenReferences(image));
    }

    [Theory]
    [InlineData("busybox", "docker.io/library/busybox:latest")]
    [InlineData("localhost:5000/team/app@sha256:ab", "localhost:5000/team/app@sha256:ab")]
    [InlineData("registry.internal/app:v1", "registry.internal/app:v1")]
    public void ImageReference_Parse_NormalisesAsContainerdStoresNames(string image, string expected)
    {
        Assert.Equal(expected, ImageReference.Parse(image).ToString());
    }

    [Fact]
    public void Render_ConfigsWithAuth_WritesCriRegistryCredentialsPerHost()
    {
        var toml = ContainerdConfig.Render(new ContainerdOptions { DataDir = "/d", SystemdCgroup = false }, new ContainerdLayout("/d"), registries: RegistriesConfiguration.Parse(K3sExample));

        Assert.Contains(
            """
                [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com:5000".auth]
                  username = "robot"
                  password = "s3cr\"et"
            """,
            toml,
            StringComparison.Ordinal);
        Assert.Contains(
            """
                [plugins."io.containerd.grpc.v1.cri".registry.configs."registry.internal".auth]
                  auth = "cm9ib3Q6cGFzcw=="
            """,
            toml,
            StringComparison.Ordinal);
        Assert.DoesNotContain(".tls]", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_RegistriesFile_WritesHostsPerRegistryDefaultForStarAndDropsStaleOnes()
    {
        var dir = Directory.CreateTempSubdirectory("ks-registries-");
        try
        {
            var file = Path.Combine(dir.FullName, "registries.yaml");
            File.WriteAllText(file, K3sExample);
            var options = new ContainerdOptions { DataDir = dir.FullName, RegistriesFile = file, RestrictOomScoreAdj = false, SystemdCgroup = false };
            var layout = new ContainerdLayout(dir.FullName);
            Directory.CreateDirectory(Path.Combine(layout.RegistryConfigDir, "gone.example"));

            ContainerdConfig.Write(options, layout);

            var hosts = Directory.GetDirectories(layout.RegistryConfigDir).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Assert.Equal(["10.0.0.5:5000", "127.0.0.1:5000", "_default", "docker.io", "localhost:5000", "mirror.example.com:5000", "registry.internal"], hosts);
            Assert.Contains("[host.\"https://mirror.example.com:5000\"]", File.ReadAllText(Path.Combine(layout.RegistryConfigDir, "_default", "hosts.toml")), StringComparison.Ordinal);
            Assert.DoesNotContain("server =", File.ReadAllText(Path.Combine(layout.RegistryConfigDir, "_default", "hosts.toml")), StringComparison.Ordinal);
            Assert.Contains("registry.configs.\"registry.internal\".auth", File.ReadAllText(layout.ConfigFile), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
