using System.CommandLine;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp secrets-encrypt status|enable|disable|prepare|rotate|reencrypt|rotate-keys</c>, k3s's verbs: each asks the
/// running server (with the admin kubeconfig of its data directory), which edits and reloads its encryption
/// configuration and rewrites the stored Secrets without a restart.
/// </summary>
internal static class SecretsEncryptCommand
{
    private static readonly (string Verb, string Description)[] Verbs =
    [
        ("status", "Print whether Secrets are encrypted, the current rotation stage and the keys."),
        ("enable", "Write Secrets encrypted (the encrypting provider first); run reencrypt to rewrite the existing ones."),
        ("disable", "Write Secrets in clear (identity first); run reencrypt to rewrite the existing ones."),
        ("prepare", "Add a new key that reads but does not yet write."),
        ("rotate", "Make the prepared key the one that writes."),
        ("reencrypt", "Rewrite every Secret with the writing key, then drop the other keys of its provider."),
        ("rotate-keys", "Add a new key, write with it, rewrite every Secret and drop the old keys, in one step."),
    ];

    public static Command Create()
    {
        var command = new Command("secrets-encrypt", "Control encryption of Secrets at rest on a running server.");
        foreach (var (verb, description) in Verbs)
        {
            command.Subcommands.Add(CreateVerb(verb, description));
        }

        return command;
    }

    private static Command CreateVerb(string verb, string description)
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The server's data directory (its admin kubeconfig is DATA-DIR/kubeconfig.yaml).", DefaultValueFactory = _ => ApiServerOptions.DefaultDataDir };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "An admin kubeconfig of the server (default: DATA-DIR/kubeconfig.yaml)." };
        var output = new Option<string>("--output", "-o") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        var command = new Command(verb, description) { dataDir, kubeconfig, output };
        command.SetAction(async (result, cancellationToken) =>
        {
            var path = result.GetValue(kubeconfig) ?? Path.Combine(result.GetValue(dataDir)!, "kubeconfig.yaml");
            JsonObject? answer;
            try
            {
                using var client = Kubesharp.Client.KubernetesClient.FromKubeconfig(path);
                answer = verb == "status"
                    ? await client.GetJsonAsync("/v1-kubesharp/encrypt/status", cancellationToken).ConfigureAwait(false)
                    : await client.SendJsonAsync(HttpMethod.Post, $"/v1-kubesharp/encrypt/{verb}", new JsonObject(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ApiMachinery.Errors.StatusException or HttpRequestException or IOException or FormatException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"kubesharp secrets-encrypt {verb}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            if (answer is null)
            {
                await Console.Error.WriteLineAsync($"kubesharp secrets-encrypt {verb}: the server does not serve secrets encryption").ConfigureAwait(false);
                return 1;
            }

            if (result.GetValue(output) == "json")
            {
                await Console.Out.WriteLineAsync(answer.ToJsonString()).ConfigureAwait(false);
                return 0;
            }

            await Console.Out.WriteLineAsync($"Encryption Status: {answer["encryptionStatus"]}").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"Current Rotation Stage: {answer["stage"]}").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"Server Encryption Hashes: {(answer["hashesMatch"]?.GetValue<bool>() == false ? "hash does not match the configuration file" : "All hashes match")}").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"Active Key: {answer["writer"]}").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"Keys: {string.Join(", ", (answer["keys"] as JsonArray ?? []).Select(k => k?.ToString()))}").ConfigureAwait(false);
            if (answer["rewritten"] is { } rewritten)
            {
                await Console.Out.WriteLineAsync($"Rewritten: {rewritten}").ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
