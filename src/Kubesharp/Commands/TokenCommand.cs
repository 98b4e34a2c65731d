using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.BootstrapTokens;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer;
using Kubesharp.Client;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp token create|list|delete</c>, kubeadm's and k3s's verbs over bootstrap token Secrets, through the API
/// with the admin kubeconfig of the server's data directory. <c>create</c> prints the token in the join form that
/// pins the cluster CA.
/// </summary>
internal static partial class TokenCommand
{
    /// <summary>The extra group of the tokens <c>create</c> makes unless told otherwise, as kubeadm's and k3s's node tokens.</summary>
    public const string DefaultNodeTokenGroup = BootstrapToken.DefaultNodeTokenGroup;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private static readonly string[] ListHeader = ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"];

    public static Command Create()
    {
        var command = new Command("token", "Create, list and delete bootstrap tokens (Secrets of type bootstrap.kubernetes.io/token in kube-system).");
        command.Subcommands.Add(CreateVerb());
        command.Subcommands.Add(ListVerb());
        command.Subcommands.Add(DeleteVerb());
        return command;
    }

    private static (Option<string> DataDir, Option<string?> Kubeconfig) ConnectionOptions() =>
        (new Option<string>("--data-dir") { Description = "The server's data directory (its admin kubeconfig is DATA-DIR/kubeconfig.yaml).", DefaultValueFactory = _ => ApiServerOptions.DefaultDataDir },
         new Option<string?>("--kubeconfig") { Description = "An admin kubeconfig of the server (default: DATA-DIR/kubeconfig.yaml)." });

    private static KubernetesClient Connect(ParseResult result, Option<string> dataDir, Option<string?> kubeconfig) =>
        KubernetesClient.FromKubeconfig(result.GetValue(kubeconfig) ?? Path.Combine(result.GetValue(dataDir)!, "kubeconfig.yaml"));

    private static Command CreateVerb()
    {
        var (dataDir, kubeconfig) = ConnectionOptions();
        var token = new Argument<string?>("token") { Description = "The token to create (<[a-z0-9]{6}>.<[a-z0-9]{16}>); a random one when omitted.", Arity = ArgumentArity.ZeroOrOne };
        var ttl = new Option<string>("--ttl") { Description = "How long until the token expires and is deleted (24h, 90m, 1h30m); 0 never.", DefaultValueFactory = _ => "24h" };
        var description = new Option<string?>("--description") { Description = "A human friendly description of how the token is used." };
        var groups = new Option<string[]>("--groups") { Description = "Extra groups the token authenticates in (system:bootstrappers:...), comma-separated or repeated.", DefaultValueFactory = _ => [DefaultNodeTokenGroup], AllowMultipleArgumentsPerToken = false };
        var usages = new Option<string[]>("--usages") { Description = "What the token may be used for: signing, authentication.", DefaultValueFactory = _ => ["signing", "authentication"] };
        var command = new Command("create", "Create a bootstrap token and print it as a join token (K10<ca-hash>::<id>.<secret>).") { token, ttl, description, groups, usages, dataDir, kubeconfig };
        command.SetAction(async (result, cancellationToken) =>
        {
            var given = result.GetValue(token);
            string id, secret;
            if (given is null)
            {
                id = RandomNumberGenerator.GetString(Alphabet, 6);
                secret = RandomNumberGenerator.GetString(Alphabet, 16);
            }
            else if (!BootstrapToken.TryParse(given, out id, out secret))
            {
                return await FailAsync("create", $"the token \"{given}\" is not of the form [a-z0-9]{{6}}.[a-z0-9]{{16}}").ConfigureAwait(false);
            }

            if (!TryParseDuration(result.GetValue(ttl)!, out var lifetime))
            {
                return await FailAsync("create", $"--ttl {result.GetValue(ttl)} is not a duration (24h, 90m, 1h30m, 0)").ConfigureAwait(false);
            }

            var extraGroups = Split(result.GetValue(groups)!);
            if (extraGroups.FirstOrDefault(g => !BootstrapToken.IsValidExtraGroup(g)) is { } badGroup)
            {
                return await FailAsync("create", $"the group \"{badGroup}\" does not match system:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]").ConfigureAwait(false);
            }

            var tokenUsages = Split(result.GetValue(usages)!);
            if (tokenUsages.FirstOrDefault(u => !BootstrapToken.KnownUsages.Contains(u)) is { } badUsage)
            {
                return await FailAsync("create", $"unknown usage \"{badUsage}\" (valid: {string.Join(", ", BootstrapToken.KnownUsages)})").ConfigureAwait(false);
            }

            var data = new Dictionary<string, byte[]>(StringComparer.Ordinal)
            {
                [BootstrapToken.TokenIdKey] = Encoding.UTF8.GetBytes(id),
                [BootstrapToken.TokenSecretKey] = Encoding.UTF8.GetBytes(secret),
            };
            if (result.GetValue(description) is { Length: > 0 } text)
            {
                data[BootstrapToken.DescriptionKey] = Encoding.UTF8.GetBytes(text);
            }

            if (lifetime > TimeSpan.Zero)
            {
                data[BootstrapToken.ExpirationKey] = Encoding.UTF8.GetBytes(BootstrapToken.FormatExpiration(DateTimeOffset.UtcNow + lifetime));
            }

            foreach (var usage in tokenUsages)
            {
                data[BootstrapToken.UsagePrefix + usage] = "true"u8.ToArray();
            }

            if (extraGroups.Count > 0)
            {
                data[BootstrapToken.ExtraGroupsKey] = Encoding.UTF8.GetBytes(string.Join(',', extraGroups));
            }

            try
            {
                using var client = Connect(result, dataDir, kubeconfig);
                await client.Resource<Secret>().CreateAsync(new Secret
                {
                    ApiVersion = "v1",
                    Kind = "Secret",
                    Metadata = new ObjectMeta { Name = BootstrapToken.SecretName(id), Namespace = BootstrapToken.SecretNamespace },
                    Type = BootstrapToken.SecretType,
                    Data = data,
                }, cancellationToken: cancellationToken).ConfigureAwait(false);
                var credentials = $"{id}.{secret}";
                // The CA the admin kubeconfig trusts is the one the server serves at /cacerts, so its hash is the pin.
                await Console.Out.WriteLineAsync(client.Options.CertificateAuthorityPem is { } ca ? Kubesharp.ApiServer.Security.JoinToken.Format(ca, credentials) : credentials).ConfigureAwait(false);
                return 0;
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                return await FailAsync("create", ex is StatusException { Code: 409 } ? $"a bootstrap token with id \"{id}\" already exists" : ex.Message).ConfigureAwait(false);
            }
        });
        return command;
    }

    private static Command ListVerb()
    {
        var (dataDir, kubeconfig) = ConnectionOptions();
        var command = new Command("list", "List the bootstrap tokens.") { dataDir, kubeconfig };
        command.SetAction(async (result, cancellationToken) =>
        {
            IReadOnlyList<Secret> secrets;
            try
            {
                using var client = Connect(result, dataDir, kubeconfig);
                secrets = (await client.Resource<Secret>().ListAsync(BootstrapToken.SecretNamespace, new ListOptions { FieldSelector = "type=" + BootstrapToken.SecretType }, cancellationToken).ConfigureAwait(false)).Items;
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                return await FailAsync("list", ex.Message).ConfigureAwait(false);
            }

            var now = DateTimeOffset.UtcNow;
            var rows = new List<string[]> { ListHeader };
            foreach (var secret in secrets.OrderBy(s => s.Metadata?.Name, StringComparer.Ordinal))
            {
                string? Value(string key) => secret.Data?.GetValueOrDefault(key) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;
                var id = Value(BootstrapToken.TokenIdKey);
                var tokenSecret = Value(BootstrapToken.TokenSecretKey);
                // As kubeadm: a Secret that does not hold a well-formed token under its own name is not listed.
                if (id is null || tokenSecret is null || secret.Metadata?.Name != BootstrapToken.SecretName(id) || !BootstrapToken.TryParse($"{id}.{tokenSecret}", out _, out _))
                {
                    continue;
                }

                var expiration = Value(BootstrapToken.ExpirationKey);
                var left = BootstrapToken.TimeLeft(expiration, now);
                var usages = secret.Data!.Keys.Where(k => k.StartsWith(BootstrapToken.UsagePrefix, StringComparison.Ordinal) && Value(k) == "true")
                    .Select(k => k[BootstrapToken.UsagePrefix.Length..]).Order(StringComparer.Ordinal);
                rows.Add(
                [
                    $"{id}.{tokenSecret}",
                    left is not { } remaining ? "<forever>" : remaining <= TimeSpan.Zero ? "<invalid>" : ShortDuration(remaining),
                    left is null ? "<never>" : BootstrapToken.TryParseExpiration(expiration!, out var at) ? BootstrapToken.FormatExpiration(at) : "<invalid>",
                    string.Join(',', usages),
                    Value(BootstrapToken.DescriptionKey) is { Length: > 0 } text ? text : "<none>",
                    Value(BootstrapToken.ExtraGroupsKey) ?? string.Empty,
                ]);
            }

            var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var row in rows)
            {
                await Console.Out.WriteLineAsync(string.Join("   ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd()).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static Command DeleteVerb()
    {
        var (dataDir, kubeconfig) = ConnectionOptions();
        var tokens = new Argument<string[]>("token") { Description = "The token ids or whole tokens (a join token's K10…:: prefix may stay) to delete.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("delete", "Delete bootstrap tokens; they stop authenticating at once.") { tokens, dataDir, kubeconfig };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                using var client = Connect(result, dataDir, kubeconfig);
                foreach (var given in result.GetValue(tokens)!)
                {
                    var credentials = Kubesharp.ApiServer.Security.JoinToken.Parse(given).Credentials;
                    var id = BootstrapToken.TryParse(credentials, out var parsedId, out _) ? parsedId : credentials;
                    if (!BootstrapToken.IsValidId(id))
                    {
                        return await FailAsync("delete", $"\"{given}\" is neither a token id ([a-z0-9]{{6}}) nor a token").ConfigureAwait(false);
                    }

                    try
                    {
                        await client.Resource<Secret>().DeleteAsync(BootstrapToken.SecretNamespace, BootstrapToken.SecretName(id), cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    catch (StatusException e) when (e.IsNotFound())
                    {
                        return await FailAsync("delete", $"bootstrap token \"{id}\" not found").ConfigureAwait(false);
                    }

                    await Console.Out.WriteLineAsync($"bootstrap token \"{id}\" deleted").ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (IsConnectionError(ex))
            {
                return await FailAsync("delete", ex.Message).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static bool IsConnectionError(Exception ex) =>
        ex is StatusException or HttpRequestException or IOException or FormatException or InvalidOperationException;

    private static async Task<int> FailAsync(string verb, string message)
    {
        await Console.Error.WriteLineAsync($"kubesharp token {verb}: {message}").ConfigureAwait(false);
        return 1;
    }

    private static List<string> Split(IEnumerable<string> values) =>
        [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal)];

    [GeneratedRegex("^(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    /// <summary>A duration as kubeadm's --ttl takes it (Go's hours, minutes, seconds); "0" is none.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (text == "0")
        {
            return true;
        }

        var match = DurationPattern().Match(text);
        if (text.Length == 0 || !match.Success)
        {
            return false;
        }

        static long Part(Group group) => group.Success ? long.Parse(group.Value, CultureInfo.InvariantCulture) : 0;
        try
        {
            duration = TimeSpan.FromHours(Part(match.Groups[1])) + TimeSpan.FromMinutes(Part(match.Groups[2])) + TimeSpan.FromSeconds(Part(match.Groups[3]));
        }
        catch (OverflowException)
        {
            return false;
        }

        return true;
    }

    /// <summary>kubectl's short age: 45s, 12m, 23h, 6d.</summary>
    private static string ShortDuration(TimeSpan span) =>
        span.TotalSeconds < 120 ? $"{(int)span.TotalSeconds}s" :
        span.TotalMinutes < 120 ? $"{(int)span.TotalMinutes}m" :
        span.TotalHours < 48 ? $"{(int)span.TotalHours}h" :
        $"{(int)span.TotalDays}d";
}
