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
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }
}
