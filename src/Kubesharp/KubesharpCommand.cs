using System.CommandLine;
using Kubesharp.Commands;
using Kubesharp.Configuration;

namespace Kubesharp;

/// <summary>The executable's verbs; each verb only composes components.</summary>
internal static class KubesharpCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = CreateRoot();
        args = KubectlPlugin.Route(args);
        try
        {
            args = ConfigurationArguments.Expand(root, args, Environment.GetEnvironmentVariables(), Console.Error);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"kubesharp: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        // Ctrl+C and SIGTERM cancel the verb; give a server time to stop its node (containerd, rules) before
        // the process is ended, instead of the parser's default of two seconds.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
        // No response files: "@daily" and "@every 1h" are schedules, not files to read arguments from.
        return await root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync(invocation).ConfigureAwait(false);
    }

    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("Kubesharp: a Kubernetes-compatible container orchestrator in one executable.");
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(Commands.DatastoreCommand.Create());
        root.Subcommands.Add(ImagesCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(HistoryCommand.Create());
        root.Subcommands.Add(SecretsEncryptCommand.Create());
        root.Subcommands.Add(TokenCommand.Create());
        root.Subcommands.Add(Commands.EtcdCommand.Create());
        root.Subcommands.Add(Commands.NodeTeardownCommands.Killall());
        root.Subcommands.Add(Commands.NodeTeardownCommands.Uninstall());
        root.Subcommands.Add(CheckConfigCommand.Create());
        root.Subcommands.Add(IngressProxyCommand.Create());
        Logging.LogOptions.AddTo(root);
        root.Options.Add(ConfigurationArguments.ConfigOption);
        return root;
    }
}
