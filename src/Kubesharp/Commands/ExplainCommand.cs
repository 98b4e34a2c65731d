using System.CommandLine;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiServer;
using Kubesharp.Client;
using Kubesharp.Scheduler;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp explain pod NAME [-n NS]</c>: why a pending pod is not scheduled, node by node and plugin by plugin,
/// from the verdict the scheduler records on the pod.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var command = new Command("explain", "Explain scheduling decisions.");
        command.Subcommands.Add(CreatePod());
        return command;
    }

    private static Command CreatePod()
    {
        var name = new Argument<string>("NAME") { Description = "The pod." };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace.", DefaultValueFactory = _ => "default" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig of the cluster (default: $KUBECONFIG, then the server's in the default data directory)." };
        var command = new Command("pod", "Show the scheduler's per-node, per-plugin verdict for a pod.") { name, ns, kubeconfig };
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = result.GetValue(kubeconfig)
                ?? (Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } fromEnvironment ? fromEnvironment.Split(':')[0] : null)
                ?? Path.Combine(ApiServerOptions.DefaultDataDir, "kubeconfig.yaml");
            try
            {
                using var client = KubernetesClient.FromKubeconfig(path);
                var pod = await client.Resource<Pod>().GetAsync(result.GetValue(ns), result.GetRequiredValue(name), cancellationToken).ConfigureAwait(false);
                await result.InvocationConfiguration.Output.WriteAsync(SchedulingVerdictReport.Render(pod)).ConfigureAwait(false);
                return 0;
            }
            catch (StatusException e)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"Error from server ({e.Reason}): {e.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or FormatException or InvalidOperationException)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
