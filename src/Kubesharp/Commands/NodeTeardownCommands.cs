using System.CommandLine;
using Kubesharp.Uninstall;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp killall</c> stops the install's server, agent, containerd, shims and containers and removes its
/// mounts, links and chains (<see cref="NodeTeardown"/>); <c>kubesharp uninstall --yes</c> does that and deletes the
/// data directory.
/// </summary>
internal static class NodeTeardownCommands
{
    public static Command Killall()
    {
        var flags = new Flags();
        var command = new Command("killall", "Stop this install's server, agent, containers and shims, and remove its mounts, network links and iptables chains (the data stays).");
        flags.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            await TeardownAsync(flags.Read(result), result.InvocationConfiguration.Output, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    public static Command Uninstall()
    {
        var flags = new Flags();
        var yes = new Option<bool>("--yes") { Description = "Really delete the data directory (cluster state, certificates, images)." };
        var command = new Command("uninstall", "killall, then delete the data directory; needs --yes.") { yes };
        flags.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = flags.Read(result);
            var dataDir = Path.GetFullPath(options.DataDir);
            if (dataDir == Path.GetPathRoot(dataDir))
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"kubesharp: refusing to delete {dataDir}").ConfigureAwait(false);
                return 2;
            }

            if (!result.GetValue(yes))
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"kubesharp: uninstall stops everything of {dataDir} and deletes it; run again with --yes to do so").ConfigureAwait(false);
                return 1;
            }

            await TeardownAsync(options, result.InvocationConfiguration.Output, cancellationToken).ConfigureAwait(false);
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }

            await result.InvocationConfiguration.Output.WriteLineAsync($"deleted {dataDir}").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static async Task TeardownAsync(NodeTeardownOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var report = await new NodeTeardown(options, TimeProvider.System).RunAsync(cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"stopped {report.Processes} processes, unmounted {report.Mounts} mounts").ConfigureAwait(false);
        await output.WriteLineAsync($"deleted links: {(report.Links.Count == 0 ? "none" : string.Join(' ', report.Links))}").ConfigureAwait(false);
        await output.WriteLineAsync($"deleted chains: {(report.Chains.Count == 0 ? "none" : string.Join(' ', report.Chains))}").ConfigureAwait(false);
    }

    /// <summary>The flags both verbs take: which install.</summary>
    private sealed class Flags
    {
        private readonly Option<string> dataDir = new("--data-dir") { Description = "The install's data directory (a server's, which holds its node's, or a lone agent's).", DefaultValueFactory = _ => ApiServer.ApiServerOptions.DefaultDataDir };
        private readonly Option<string> chainPrefix = new("--chain-prefix") { Description = "The prefix of the install's iptables chains.", DefaultValueFactory = _ => Proxy.Iptables.IptablesChains.DefaultPrefix };
        private readonly Option<string> dnsInterface = new("--dns-interface") { Description = "The link holding the cluster DNS address.", DefaultValueFactory = _ => NodeAgents.NodeAgentOptions.DefaultDnsInterface };

        public void AddTo(Command command)
        {
            command.Options.Add(dataDir);
            command.Options.Add(chainPrefix);
            command.Options.Add(dnsInterface);
        }

        public NodeTeardownOptions Read(ParseResult result) => new()
        {
            DataDir = result.GetRequiredValue(dataDir),
            ChainPrefix = result.GetRequiredValue(chainPrefix),
            DnsInterface = result.GetRequiredValue(dnsInterface),
        };
    }
}
