using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Storage;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>
/// The secrets-encrypt verbs, as k3s has them: the server edits its encryption configuration file, loads it at once
/// (no restart) and rewrites stored values under the new writer. Stages: start, prepare, rotate, reencrypt_finished.
/// </summary>
public sealed partial class SecretsEncryption(EncryptingStore store, string? configPath, Func<long, CancellationToken, Task> waitForCache, TimeProvider timeProvider, ILogger logger) : IDisposable
{
    public const string DefaultKeyName = "aescbckey";
    private readonly SemaphoreSlim _serial = new(1, 1);

    /// <summary>Where <c>--secrets-encryption</c> keeps its configuration: DATA/server/cred/encryption-config.json.</summary>
    public static string DefaultConfigPath(string dataDir) => Path.Combine(dataDir, "server", "cred", "encryption-config.json");

    /// <summary>Writes a configuration encrypting Secrets with a new random AES-CBC key, then identity, unless the file exists.</summary>
    public static void EnsureDefaultConfig(string path)
    {
        if (File.Exists(path))
        {
            return;
        }

        var config = new JsonObject
        {
            ["kind"] = EncryptionConfiguration.Kind,
            ["apiVersion"] = EncryptionConfiguration.ApiVersion,
            ["resources"] = new JsonArray(new JsonObject
            {
                ["resources"] = new JsonArray("secrets"),
                ["providers"] = new JsonArray(
                    new JsonObject { ["aescbc"] = new JsonObject { ["keys"] = new JsonArray(NewKey(DefaultKeyName)) } },
                    new JsonObject { ["identity"] = new JsonObject() }),
            }),
        };
        Write(path, config);
    }

    /// <summary>What <c>secrets-encrypt status</c> prints.</summary>
    public JsonObject Status()
    {
        var current = store.Configuration;
        var status = new JsonObject
        {
            ["encryptionStatus"] = configPath is null ? "Disabled" : current.WriterOf("secrets") == "identity" ? "Disabled" : "Enabled",
            ["stage"] = ReadStage(),
            ["writer"] = current.WriterOf("secrets"),
            ["configPath"] = configPath,
            ["configHash"] = current.Hash,
        };
        if (configPath is not null && File.Exists(configPath) && ReadConfig() is { } file)
        {
            var providers = SecretsProviders(file);
            status["keys"] = new JsonArray([.. providers.SelectMany(p => p is JsonObject o && o.First().Key != "identity"
                ? (o.First().Value?["keys"] as JsonArray ?? []).Select(k => (JsonNode?)JsonValue.Create($"{o.First().Key}:{k?["name"]}"))
                : [JsonValue.Create("identity")])]);
            status["hashesMatch"] = current.Hash == Hash(File.ReadAllText(configPath));
        }

        return status;
    }

    /// <summary>Runs one verb: enable, disable, prepare, rotate, reencrypt or rotate-keys.</summary>
    /// <exception cref="InvalidOperationException">The verb does not apply now; the message says why.</exception>
    public async Task<JsonObject> RunAsync(string verb, CancellationToken cancellationToken)
    {
        if (configPath is null)
        {
            throw new InvalidOperationException("the server runs without an encryption configuration: start it with --secrets-encryption or --encryption-provider-config");
        }

        await _serial.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var config = ReadConfig();
            var providers = SecretsProviders(config);
            switch (verb)
            {
                case "enable":
                    MoveFirst(providers, EncryptingProvider(providers) ?? AddProvider(providers));
                    break;
                case "disable":
                    MoveFirst(providers, providers.FirstOrDefault(IsIdentity) ?? AddIdentity(providers));
                    break;
                case "prepare":
                    KeysOf(EncryptingProvider(providers) ?? throw NoEncryption()).Add((JsonNode?)NewKey(NewKeyName()));
                    SetStage("prepare");
                    break;
                case "rotate":
                    var keys = KeysOf(EncryptingProvider(providers) ?? throw NoEncryption());
                    if (ReadStage() != "prepare" || keys.Count < 2)
                    {
                        throw new InvalidOperationException("rotate needs a prepared key: run secrets-encrypt prepare first");
                    }

                    var newest = keys[^1]!;
                    keys.RemoveAt(keys.Count - 1);
                    keys.Insert(0, newest);
                    SetStage("rotate");
                    break;
                case "reencrypt":
                    await ReloadAsync(config, cancellationToken).ConfigureAwait(false);
                    var rewritten = await ReencryptAsync(cancellationToken).ConfigureAwait(false);
                    // Once everything is written with the active key, the other keys of its provider are no longer needed.
                    if (EncryptingProvider(providers) is { } active && ReferenceEquals(providers[0], active))
                    {
                        var activeKeys = KeysOf(active);
                        while (activeKeys.Count > 1)
                        {
                            activeKeys.RemoveAt(activeKeys.Count - 1);
                        }
                    }

                    SetStage("reencrypt_finished");
                    await ReloadAsync(config, cancellationToken).ConfigureAwait(false);
                    return Result(verb, rewritten);
                case "rotate-keys":
                    var provider = EncryptingProvider(providers) ?? throw NoEncryption();
                    // One server reads this file, so the new key can write at once; the old ones read until the rewrite is done.
                    KeysOf(provider).Insert(0, NewKey(NewKeyName()));
                    MoveFirst(providers, provider);
                    await ReloadAsync(config, cancellationToken).ConfigureAwait(false);
                    var count = await ReencryptAsync(cancellationToken).ConfigureAwait(false);
                    var rotated = KeysOf(provider);
                    while (rotated.Count > 1)
                    {
                        rotated.RemoveAt(rotated.Count - 1);
                    }

                    SetStage("reencrypt_finished");
                    await ReloadAsync(config, cancellationToken).ConfigureAwait(false);
                    return Result(verb, count);
                default:
                    throw new InvalidOperationException($"unknown secrets-encrypt verb {verb} (status, enable, disable, prepare, rotate, reencrypt, rotate-keys)");
            }

            await ReloadAsync(config, cancellationToken).ConfigureAwait(false);
            return Result(verb, 0);
        }
        finally
        {
            _serial.Release();
        }
    }

    /// <summary>Loads the configuration file again (after an edit by hand).</summary>
    public void Reload()
    {
        if (configPath is not null)
        {
            store.Configuration = EncryptionConfiguration.Load(configPath);
        }
    }

    public void Dispose() => _serial.Dispose();

    private JsonObject Result(string verb, int rewritten)
    {
        var status = Status();
        status["verb"] = verb;
        status["rewritten"] = rewritten;
        return status;
    }

    private Task ReloadAsync(JsonObject config, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Parse first: a configuration the server cannot load never reaches the file.
        _ = EncryptionConfiguration.Parse(config.ToJsonString());
        Write(configPath!, config);
        var loaded = EncryptionConfiguration.Load(configPath!);
        store.Configuration = loaded;
        var writer = loaded.WriterOf("secrets");
        LogReloaded(logger, configPath!, writer);
        return Task.CompletedTask;
    }

    /// <summary>Writes every value of an encrypted resource again, so each is stored under the current writer.</summary>
    private async Task<int> ReencryptAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        string? after = null;
        var revision = 0L;
        while (true)
        {
            var page = await store.Inner.ListAsync("/registry/", new ListOptions(revision, 500, after), cancellationToken).ConfigureAwait(false);
            revision = page.Revision;
            foreach (var item in page.Items)
            {
                if (EncryptionConfiguration.IsEncrypted(item.Value.Span) || store.Configuration.ProvidersOf(EncryptionConfiguration.ResourceOf(item.Key) ?? string.Empty) is not null)
                {
                    if (await store.RewriteAsync(item.Key, cancellationToken).ConfigureAwait(false))
                    {
                        count++;
                    }
                }
            }

            if (!page.More || page.Items.Count == 0)
            {
                break;
            }

            after = page.Items[^1].Key;
        }

        // The cache's watch still has to read the old values of these writes (as their previous values): the old keys
        // may go only once it has passed them.
        await waitForCache(await store.GetCurrentRevisionAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        LogReencrypted(logger, count);
        return count;
    }

    private JsonObject ReadConfig() =>
        YamlDecoder.Decode(File.ReadAllText(configPath!)) as JsonObject ?? throw new InvalidOperationException($"{configPath} is not an EncryptionConfiguration");

    /// <summary>The providers of the rule that names secrets (created when there is none).</summary>
    private static JsonArray SecretsProviders(JsonObject config)
    {
        var resources = config["resources"] as JsonArray ?? (JsonArray)(config["resources"] = new JsonArray());
        foreach (var rule in resources)
        {
            if ((rule?["resources"] as JsonArray ?? []).Any(r => r?.GetValue<string>() is "secrets" or "*." or "*.*"))
            {
                return rule!["providers"] as JsonArray ?? (JsonArray)(rule["providers"] = new JsonArray());
            }
        }

        var providers = new JsonArray(new JsonObject { ["identity"] = new JsonObject() });
        resources.Insert(0, new JsonObject { ["resources"] = new JsonArray("secrets"), ["providers"] = providers });
        return providers;
    }

    private static bool IsIdentity(JsonNode? provider) => provider is JsonObject o && o.ContainsKey("identity");

    private static JsonObject? EncryptingProvider(JsonArray providers) =>
        providers.OfType<JsonObject>().FirstOrDefault(p => p.ContainsKey("aescbc") || p.ContainsKey("aesgcm") || p.ContainsKey("secretbox"));

    private static JsonArray KeysOf(JsonObject provider)
    {
        var body = provider.First().Value as JsonObject ?? throw new InvalidOperationException("the provider has no keys");
        return body["keys"] as JsonArray ?? (JsonArray)(body["keys"] = new JsonArray());
    }

    private static JsonObject AddProvider(JsonArray providers)
    {
        var provider = new JsonObject { ["aescbc"] = new JsonObject { ["keys"] = new JsonArray(NewKey(DefaultKeyName)) } };
        providers.Add((JsonNode?)provider);
        return provider;
    }

    private static JsonObject AddIdentity(JsonArray providers)
    {
        var identity = new JsonObject { ["identity"] = new JsonObject() };
        providers.Add((JsonNode?)identity);
        return identity;
    }

    private static void MoveFirst(JsonArray providers, JsonNode provider)
    {
        providers.Remove(provider);
        providers.Insert(0, provider);
    }

    private static InvalidOperationException NoEncryption() => new("the configuration lists no encrypting provider for secrets: run secrets-encrypt enable first");

    private string NewKeyName() => $"{DefaultKeyName}-{timeProvider.GetUtcNow().ToString("yyyy-MM-dd'T'HH-mm-ss'Z'", CultureInfo.InvariantCulture)}";

    private static JsonObject NewKey(string name) => new() { ["name"] = name, ["secret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) };

    private string StagePath => configPath + ".stage";

    private string ReadStage() => configPath is not null && File.Exists(StagePath) ? File.ReadAllText(StagePath).Trim() : "start";

    private void SetStage(string stage) => File.WriteAllText(StagePath, stage);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>Writes the file whole, readable by its owner only, and replaces the old one in one rename.</summary>
    private static void Write(string path, JsonObject config)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, config, JsonIndentedContext.Default.JsonObject);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Encryption configuration {Path} loaded; secrets are written with {Writer}")]
    private static partial void LogReloaded(ILogger logger, string path, string writer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-encrypted {Count} stored values")]
    private static partial void LogReencrypted(ILogger logger, int count);
}
