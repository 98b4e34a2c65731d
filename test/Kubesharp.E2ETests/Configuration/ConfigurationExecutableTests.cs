namespace Kubesharp.E2ETests.Configuration;

/// <summary>
/// The real executable takes flags from a config file and <c>KUBESHARP_*</c> variables, flags over environment over
/// file: each source in turn sets a value the server refuses, and the refusal names the value that won.
/// </summary>
public sealed class ConfigurationExecutableTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("kubesharp-config-").FullName;

    [Fact]
    public async Task Server_ConfigFileEnvironmentAndFlags_FlagsOverEnvironmentOverFile()
    {
        var config = Path.Combine(dir, "config.yaml");
        await File.WriteAllTextAsync(config, """
            bind-address: "from-file"
            data-dir: DATA
            disable:
              - coredns
            """.Replace("DATA", Path.Combine(dir, "data"), StringComparison.Ordinal));
        string[] args = ["server", "--config", config];

        var fromFile = await ChildProcess.RunKubesharpAsync(args);
        Assert.Equal(2, fromFile.ExitCode);
        Assert.Contains("--bind-address from-file is not an IP address", fromFile.Error, StringComparison.Ordinal);

        var environment = new Dictionary<string, string> { ["KUBESHARP_BIND_ADDRESS"] = "from-environment" };
        var fromEnvironment = await ChildProcess.RunKubesharpAsync(args, environment);
        Assert.Equal(2, fromEnvironment.ExitCode);
        Assert.Contains("--bind-address from-environment is not an IP address", fromEnvironment.Error, StringComparison.Ordinal);

        var fromFlag = await ChildProcess.RunKubesharpAsync([.. args, "--bind-address", "from-flag"], environment);
        Assert.Equal(2, fromFlag.ExitCode);
        Assert.Contains("--bind-address from-flag is not an IP address", fromFlag.Error, StringComparison.Ordinal);

        // The file's config file location can come from the environment too, and an unknown key is named, not fatal.
        await File.WriteAllTextAsync(Path.Combine(dir, "other.yaml"), "bind-address: from-other-file\nno-such-flag: 1\n");
        var chosen = await ChildProcess.RunKubesharpAsync(["server"], new Dictionary<string, string> { ["KUBESHARP_CONFIG_FILE"] = Path.Combine(dir, "other.yaml") });
        Assert.Equal(2, chosen.ExitCode);
        Assert.Contains("--bind-address from-other-file is not an IP address", chosen.Error, StringComparison.Ordinal);
        Assert.Contains("no-such-flag", chosen.Error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
