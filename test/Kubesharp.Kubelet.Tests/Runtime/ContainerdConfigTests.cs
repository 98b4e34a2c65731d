using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Kubelet.Tests.Runtime;

public sealed class ContainerdConfigTests
{
    private static readonly ContainerdOptions Options = new() { DataDir = "/var/lib/kubesharp", SystemdCgroup = false };

    [Fact]
    public void Render_DefaultOptions_EnablesCriWithOverlayfsRuncAndOwnPaths()
    {
        var layout = new ContainerdLayout(Options.DataDir);

        var toml = ContainerdConfig.Render(Options, layout);

        Assert.StartsWith("# ", toml);
        Assert.Contains("version = 2\n", toml);
        Assert.DoesNotContain("disabled_plugins", toml);
        Assert.Contains("root = \"/var/lib/kubesharp/containerd/root\"", toml);
        Assert.Contains("state = \"/var/lib/kubesharp/containerd/state\"", toml);
        Assert.Contains("address = \"/var/lib/kubesharp/containerd/containerd.sock\"", toml);
        Assert.Contains("[plugins.\"io.containerd.grpc.v1.cri\"]", toml);
        Assert.Contains("sandbox_image = \"docker.io/kubesharp/pause:1.0\"", toml);
        Assert.Contains("snapshotter = \"overlayfs\"", toml);
        Assert.Contains("runtime_type = \"io.containerd.runc.v2\"", toml);
        Assert.Contains("SystemdCgroup = false", toml);
        Assert.Contains("bin_dir = \"/usr/lib/cni\"", toml);
        Assert.Contains("conf_dir = \"/var/lib/kubesharp/cni/net.d\"", toml);
        Assert.Contains("config_path = \"/var/lib/kubesharp/containerd/certs.d\"", toml);
        Assert.Contains("stream_server_port = \"0\"", toml);
        Assert.Contains("restrict_oom_score_adj = false", toml);
    }

    [Fact]
    public void CanLowerOomScoreAdj_AgreesWithAChildThatTries()
    {
        // What the answer (read from /proc, or tried by this process) must match: a child process lowering its own
        // oom_score_adj.
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "echo -999 > /proc/self/oom_score_adj" },
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = System.Diagnostics.Process.Start(start)!;
        child.StandardError.ReadToEnd();
        child.WaitForExit();

        Assert.Equal(child.ExitCode == 0, ContainerdConfig.CanLowerOomScoreAdj());
    }

    [Fact]
    public void Render_RestrictedOomScoreAndSystemd_AreWritten()
    {
        var options = new ContainerdOptions { DataDir = "/d", SystemdCgroup = true, RuncPath = "/opt/runc" };

        var toml = ContainerdConfig.Render(options, new ContainerdLayout(options.DataDir), restrictOomScoreAdj: true);

        Assert.Contains("restrict_oom_score_adj = true", toml);
        Assert.Contains("SystemdCgroup = true", toml);
        Assert.Contains("BinaryName = \"/opt/runc\"", toml);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("a\"b", "\"a\\\"b\"")]
    [InlineData("c:\\x", "\"c:\\\\x\"")]
    [InlineData("line\nbreak", "\"line\\nbreak\"")]
    public void Quote_SpecialCharacters_AreEscapedForToml(string value, string expected)
    {
        Assert.Equal(expected, ContainerdConfig.Quote(value));
    }

    [Fact]
    public void RenderInsecureRegistryHosts_LoopbackRegistry_UsesPlainHttp()
    {
        var toml = ContainerdConfig.RenderInsecureRegistryHosts("127.0.0.1:5000");

        Assert.Contains("server = \"http://127.0.0.1:5000\"", toml);
        Assert.Contains("[host.\"http://127.0.0.1:5000\"]", toml);
        Assert.Contains("\"pull\", \"resolve\"", toml);
    }

    [Fact]
    public void Write_InsecureRegistries_WritesConfigAndOneHostsFileEach()
    {
        var dir = Directory.CreateTempSubdirectory("ks-config-");
        try
        {
            var options = new ContainerdOptions { DataDir = dir.FullName, InsecureRegistries = ["127.0.0.1:5000", "localhost:5001"], RestrictOomScoreAdj = false };
            var layout = new ContainerdLayout(dir.FullName);

            ContainerdConfig.Write(options, layout);

            Assert.True(File.Exists(layout.ConfigFile));
            Assert.True(Directory.Exists(layout.CniConfDir));
            Assert.Contains("http://127.0.0.1:5000", File.ReadAllText(Path.Combine(layout.RegistryConfigDir, "127.0.0.1:5000", "hosts.toml")));
            Assert.Contains("http://localhost:5001", File.ReadAllText(Path.Combine(layout.RegistryConfigDir, "localhost:5001", "hosts.toml")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void AddInsecureRegistry_PathLikeHost_IsRejected()
    {
        var layout = new ContainerdLayout("/nonexistent");

        Assert.Throws<ArgumentException>(() => ContainerdConfig.AddInsecureRegistry(layout, "../etc"));
    }

    [Fact]
    public void EnsureSocketPathFits_VeryLongDataDir_Throws()
    {
        var layout = new ContainerdLayout("/" + new string('d', 120));

        Assert.Throws<InvalidOperationException>(layout.EnsureSocketPathFits);
    }
}
