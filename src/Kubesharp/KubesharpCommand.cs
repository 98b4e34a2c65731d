using System.CommandLine;
using Kubesharp.Commands;

namespace Kubesharp;

/// <summary>The executable's verbs; each verb only composes components.</summary>
internal static class KubesharpCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Kubesharp: a Kubernetes-compatible container orchestrator in one executable.");
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(AgentCommand.Create());
        root.Subcommands.Add(Commands.DatastoreCommand.Create());
        root.Subcommands.Add(ImagesCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(SecretsEncryptCommand.Create());
        // Ctrl+C and SIGTERM cancel the verb; give a server time to stop its node (containerd, rules) before
        // the process is ended, instead of the parser's default of two seconds.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
        return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
    }
}
