using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.ApiServer;

namespace Kubesharp.Commands;

/// <summary>
/// The executable as kubectl plugins: linked as <c>kubectl-plan</c> or <c>kubectl-history</c> on PATH, kubectl runs it
/// for <c>kubectl plan</c> and <c>kubectl history</c>, and the link's name chooses the verb. Also where plugins find the
/// kubeconfig, as kubectl would.
/// </summary>
internal static class KubectlPlugin
{
    private const string Prefix = "kubectl-";
    private static readonly string[] Verbs = ["plan", "history"];

    /// <summary>Run through a link named kubectl-VERB, the arguments are that verb's.</summary>
    public static string[] Route(string[] args)
    {
        string? invokedAs = null;
        try
        {
            // argv[0] as the process was started: a link's own name (the runtime reports the resolved executable).
            var commandLine = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(commandLine, (byte)0);
            invokedAs = Path.GetFileName(Encoding.UTF8.GetString(commandLine, 0, end < 0 ? commandLine.Length : end));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return invokedAs is not null && invokedAs.StartsWith(Prefix, StringComparison.Ordinal) && Verbs.Contains(invokedAs[Prefix.Length..])
            ? [invokedAs[Prefix.Length..], .. args]
            : args;
    }

    /// <summary>--kubeconfig, else $KUBECONFIG (its first file), ~/.kube/config, then the server's in the default data directory.</summary>
    public static string ResolveKubeconfig(string? given)
    {
        if (given is { Length: > 0 })
        {
            return given;
        }

        if (Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment.Split(':')[0];
        }

        var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        return File.Exists(home) ? home : Path.Combine(ApiServerOptions.DefaultDataDir, "kubeconfig.yaml");
    }

    /// <summary>The namespace of the kubeconfig's context (or <paramref name="contextName"/>'s), else "default".</summary>
    public static string ContextNamespace(string kubeconfig, string? contextName)
    {
        try
        {
            if (YamlDecoder.Decode(File.ReadAllText(kubeconfig)) is JsonObject config)
            {
                var name = contextName ?? (string?)config["current-context"];
                var context = (config["contexts"] as JsonArray)?.FirstOrDefault(c => (string?)c?["name"] == name);
                if ((string?)context?["context"]?["namespace"] is { Length: > 0 } @namespace)
                {
                    return @namespace;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Kubesharp.ApiMachinery.Errors.StatusException or InvalidOperationException)
        {
        }

        return "default";
    }
}
