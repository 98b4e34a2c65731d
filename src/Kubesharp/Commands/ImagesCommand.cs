using System.CommandLine;
using Kubesharp.ApiServer;
using Kubesharp.Kubelet.Runtime;

namespace Kubesharp.Commands;

/// <summary><c>kubesharp images import FILE</c>: loads an OCI or docker image archive into the node's runtime,
/// for machines that cannot reach a registry. <c>--data-dir</c> takes the server's data directory or an agent's.</summary>
internal static class ImagesCommand
{
    public static Command Create()
    {
        var command = new Command("images", "Manage the images of this node's container runtime.");
        command.Subcommands.Add(CreateImport());
        return command;
    }

    private static Command CreateImport()
    {
        var file = new Argument<string>("FILE") { Description = "An OCI layout or docker-save archive (tar)." };
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "The data directory of the server (its node's containerd is under DATA-DIR/agent/containerd) or of an agent (DATA-DIR/containerd).",
            DefaultValueFactory = _ => ApiServerOptions.DefaultDataDir,
        };
        var command = new Command("import", "Import the images of an archive into the node's containerd.") { file, dataDir };
        command.SetAction(async (result, cancellationToken) =>
        {
            var archive = result.GetRequiredValue(file);
            if (!File.Exists(archive))
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"error: {archive}: no such file").ConfigureAwait(false);
                return 1;
            }

            try
            {
                var importer = ContainerdImageImporter.ForDataDir(result.GetRequiredValue(dataDir));
                var names = await importer.ImportAsync(archive, cancellationToken).ConfigureAwait(false);
                foreach (var name in names)
                {
                    await result.InvocationConfiguration.Output.WriteLineAsync($"imported {name}").ConfigureAwait(false);
                }

                return 0;
            }
            catch (Exception e) when (e is ImageImportException or ContainerRuntimeUnavailableException or IOException)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
