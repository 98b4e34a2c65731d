using System.Collections;
using Kubesharp.Configuration;

namespace Kubesharp.IntegrationTests.Configuration;

/// <summary>Flags from config files and KUBESHARP_* variables, parsed by the real command line: flags beat the environment beats the files.</summary>
public sealed class ConfigurationArgumentsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kubesharp-config-" + Guid.NewGuid().ToString("N"));
    private readonly StringWriter _warnings = new();

    public ConfigurationArgumentsTests() => Directory.CreateDirectory(Path.Combine(_dir, "config.yaml.d"));

    public void Dispose()
    {
        _warnings.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string ConfigPath => Path.Combine(_dir, "config.yaml");

    private System.CommandLine.ParseResult Parse(string[] args, IDictionary? environment = null)
    {
        var root = KubesharpCommand.CreateRoot();
        var expanded = ConfigurationArguments.Expand(root, args, environment ?? new Hashtable(), _warnings);
        var result = root.Parse(expanded);
        Assert.Empty(result.Errors);
        return result;
    }

    private static T? Value<T>(System.CommandLine.ParseResult result, string name) => result.GetValue<T>(name);

    [Fact]
    public void ConfigFile_HoldsAnyFlagOfTheVerb_ListsAndBooleans()
    {
        File.WriteAllText(ConfigPath, """
            https-port: 7443
            disable-agent: true
            cluster-domain: example.local
            v: 3
            log-format: json
            """);
        var result = Parse(["server", "--config", ConfigPath]);
        Assert.Equal(7443, Value<int>(result, "--https-port"));
        Assert.True(Value<bool>(result, "--disable-agent"));
        Assert.Equal("example.local", Value<string>(result, "--cluster-domain"));
        Assert.Equal(3, Value<int>(result, "--v"));
        Assert.Equal("json", Value<string>(result, "--log-format"));
        Assert.Equal(string.Empty, _warnings.ToString());
    }

    [Fact]
    public void Precedence_FlagsOverEnvironmentOverFile()
    {
        File.WriteAllText(ConfigPath, """
            https-port: 7443
            cluster-domain: file.local
            service-cidr: 10.50.0.0/16
            """);
        var environment = new Hashtable { ["KUBESHARP_CLUSTER_DOMAIN"] = "env.local", ["KUBESHARP_HTTPS_PORT"] = "8443" };
        var result = Parse(["server", "--config", ConfigPath, "--https-port", "9443"], environment);
        Assert.Equal(9443, Value<int>(result, "--https-port"));
        Assert.Equal("env.local", Value<string>(result, "--cluster-domain"));
        Assert.Equal("10.50.0.0/16", Value<string>(result, "--service-cidr"));

        // The = form and short aliases count as given on the command line too.
        result = Parse(["server", "--config", ConfigPath, "--cluster-domain=flag.local", "-v", "5"], environment);
        Assert.Equal("flag.local", Value<string>(result, "--cluster-domain"));
        Assert.Equal(5, Value<int>(result, "--v"));
    }

    [Fact]
    public void DropInFiles_ReplaceKeysInNameOrder_AndPlusAppendsToLists()
    {
        File.WriteAllText(ConfigPath, """
            cluster-domain: main.local
            https-port: 7443
            """);
        File.WriteAllText(Path.Combine(_dir, "config.yaml.d", "20-late.yaml"), "cluster-domain: late.local\n");
        File.WriteAllText(Path.Combine(_dir, "config.yaml.d", "10-early.yaml"), "cluster-domain: early.local\nhttps-port: 6555\n");
        File.WriteAllText(Path.Combine(_dir, "config.yaml.d", "30-ignored.txt"), "cluster-domain: not-yaml.local\n");
        var result = Parse(["server", "--config", ConfigPath]);
        Assert.Equal("late.local", Value<string>(result, "--cluster-domain"));
        Assert.Equal(6555, Value<int>(result, "--https-port"));
    }

    [Fact]
    public void ListFlag_FromListsAndAppends_RepeatsTheFlag()
    {
        // The verb's list flag (a repeated option) takes a YAML list; key+ in a later file appends.
        var root = KubesharpCommand.CreateRoot();
        var server = root.Subcommands.Single(c => c.Name == "server");
        var listOption = (System.CommandLine.Option<string[]>)server.Options.Single(o => o.Name == "--tls-san");
        File.WriteAllText(ConfigPath, "tls-san:\n  - a.example\n  - b.example\n");
        File.WriteAllText(Path.Combine(_dir, "config.yaml.d", "10-more.yaml"), "tls-san+: [c.example]\n");
        var expanded = ConfigurationArguments.Expand(root, ["server", "--config", ConfigPath], new Hashtable(), _warnings);
        var result = root.Parse(expanded);
        Assert.Empty(result.Errors);
        Assert.Equal(["a.example", "b.example", "c.example"], result.GetValue(listOption)!);

        File.WriteAllText(Path.Combine(_dir, "config.yaml.d", "20-replace.yaml"), "tls-san: [d.example]\n");
        expanded = ConfigurationArguments.Expand(root, ["server", "--config", ConfigPath], new Hashtable(), _warnings);
        Assert.Equal(["d.example"], root.Parse(expanded).GetValue(listOption)!);

        // A list from the environment is comma-separated.
        expanded = ConfigurationArguments.Expand(root, ["server", "--config", ConfigPath], new Hashtable { ["KUBESHARP_TLS_SAN"] = "e.example, f.example" }, _warnings);
        Assert.Equal(["e.example", "f.example"], root.Parse(expanded).GetValue(listOption)!);
    }

    [Fact]
    public void ConfigFile_ChosenByEnvironment_UnknownKeysWarned_MissingExplicitFileRefused()
    {
        File.WriteAllText(ConfigPath, "https-port: 7443\nno-such-flag: 1\n");
        var result = Parse(["server"], new Hashtable { [ConfigurationArguments.ConfigFileVariable] = ConfigPath });
        Assert.Equal(7443, Value<int>(result, "--https-port"));
        Assert.Contains("no-such-flag is not a flag of 'server'", _warnings.ToString(), StringComparison.Ordinal);

        Assert.Throws<FileNotFoundException>(() => ConfigurationArguments.Expand(KubesharpCommand.CreateRoot(), ["server", "--config", Path.Combine(_dir, "missing.yaml")], new Hashtable(), _warnings));
        File.WriteAllText(ConfigPath, "- not\n- a mapping\n");
        Assert.Throws<InvalidDataException>(() => ConfigurationArguments.Expand(KubesharpCommand.CreateRoot(), ["server", "--config", ConfigPath], new Hashtable(), _warnings));
    }

    [Fact]
    public void AgentVerb_TakesItsOwnFlagsFromTheSameFile()
    {
        File.WriteAllText(ConfigPath, "server: https://10.0.0.1:6443\ntoken: secret\nkubelet-port: 11250\n");
        var result = Parse(["agent", "--config", ConfigPath]);
        Assert.Equal("https://10.0.0.1:6443", Value<string>(result, "--server"));
        Assert.Equal(11250, Value<int>(result, "--kubelet-port"));
    }
}
