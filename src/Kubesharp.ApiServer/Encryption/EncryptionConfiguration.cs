using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>
/// An apiserver.config.k8s.io/v1 EncryptionConfiguration: for each group of resources, the providers in order.
/// The first provider writes; every listed key reads what it wrote; resources no rule names are stored as they are.
/// </summary>
public sealed class EncryptionConfiguration
{
    public const string ApiVersion = "apiserver.config.k8s.io/v1";
    public const string Kind = "EncryptionConfiguration";

    private readonly IReadOnlyList<(IReadOnlyList<string> Patterns, IReadOnlyList<EncryptionProvider> Providers)> _rules;
    private readonly ConcurrentDictionary<string, IReadOnlyList<EncryptionProvider>?> _byResource = new(StringComparer.Ordinal);

    private EncryptionConfiguration(IReadOnlyList<(IReadOnlyList<string>, IReadOnlyList<EncryptionProvider>)> rules, string hash)
    {
        _rules = rules;
        Hash = hash;
    }

    /// <summary>No rules: every value is stored as it is.</summary>
    public static EncryptionConfiguration None { get; } = new([], string.Empty);

    /// <summary>SHA-256 of the file the configuration was read from, so a reload can tell whether anything changed.</summary>
    public string Hash { get; }

    /// <summary>Whether any resource is named by a rule.</summary>
    internal bool HasRules => _rules.Count > 0;

    /// <summary>The provider and key that write values of a resource ("identity" when none encrypts it).</summary>
    public string WriterOf(string resource)
    {
        var providers = ProvidersOf(resource);
        return providers is null || providers[0].KeyName.Length == 0 ? "identity" : $"{providers[0].Kind}:{providers[0].KeyName}";
    }

    public static EncryptionConfiguration Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"the encryption configuration {path} cannot be read: {ex.Message}", ex);
        }

        return Parse(text, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))));
    }

    /// <exception cref="FormatException">The text is not a valid EncryptionConfiguration.</exception>
    public static EncryptionConfiguration Parse(string text, string hash = "")
    {
        JsonNode? document;
        try
        {
            document = YamlDecoder.Decode(text);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new FormatException($"the encryption configuration is not YAML or JSON: {ex.Message}", ex);
        }

        if (document is not JsonObject root || root["kind"]?.GetValue<string>() != Kind || root["apiVersion"]?.GetValue<string>() != ApiVersion)
        {
            throw new FormatException($"the encryption configuration must be kind {Kind} of apiVersion {ApiVersion}");
        }

        var rules = new List<(IReadOnlyList<string>, IReadOnlyList<EncryptionProvider>)>();
        var index = 0;
        foreach (var entry in root["resources"] as JsonArray ?? [])
        {
            var at = $"resources[{index++}]";
            var patterns = (entry?["resources"] as JsonArray ?? []).Select(r => r?.GetValue<string>() ?? string.Empty).ToList();
            if (patterns.Count == 0 || patterns.Any(p => p.Length == 0))
            {
                throw new FormatException($"{at}.resources must name at least one resource");
            }

            var providers = new List<EncryptionProvider>();
            var providerIndex = 0;
            foreach (var provider in entry?["providers"] as JsonArray ?? [])
            {
                providers.AddRange(ParseProvider(provider as JsonObject, $"{at}.providers[{providerIndex++}]"));
            }

            if (providers.Count == 0)
            {
                throw new FormatException($"{at}.providers must list at least one provider");
            }

            rules.Add((patterns, providers));
        }

        return new EncryptionConfiguration(rules, hash);
    }

    private static IEnumerable<EncryptionProvider> ParseProvider(JsonObject? provider, string at)
    {
        var kinds = provider?.Select(p => p.Key).ToList() ?? [];
        if (kinds.Count != 1)
        {
            throw new FormatException($"{at} must hold exactly one of identity, aescbc, aesgcm, secretbox");
        }

        var kind = kinds[0];
        if (kind == "identity")
        {
            return [IdentityProvider.Instance];
        }

        if (kind is not ("aescbc" or "aesgcm" or "secretbox"))
        {
            throw new FormatException($"{at}: the provider {kind} is not supported (identity, aescbc, aesgcm, secretbox are)");
        }

        var keys = provider![kind]?["keys"] as JsonArray ?? [];
        if (keys.Count == 0)
        {
            throw new FormatException($"{at}.{kind}.keys must list at least one key");
        }

        var result = new List<EncryptionProvider>();
        for (var i = 0; i < keys.Count; i++)
        {
            var name = keys[i]?["name"]?.GetValue<string>() ?? string.Empty;
            var secretText = keys[i]?["secret"]?.GetValue<string>() ?? string.Empty;
            if (name.Length == 0 || name.Contains(':', StringComparison.Ordinal))
            {
                throw new FormatException($"{at}.{kind}.keys[{i}].name must be a non-empty name without ':'");
            }

            byte[] secret;
            try
            {
                secret = Convert.FromBase64String(secretText);
            }
            catch (FormatException)
            {
                throw new FormatException($"{at}.{kind}.keys[{i}].secret must be base64");
            }

            var valid = kind == "secretbox" ? secret.Length == 32 : secret.Length is 16 or 24 or 32;
            if (!valid)
            {
                throw new FormatException($"{at}.{kind}.keys[{i}].secret is {secret.Length} bytes; {(kind == "secretbox" ? "secretbox needs 32" : "AES needs 16, 24 or 32")}");
            }

            result.Add(kind switch
            {
                "aescbc" => new AesCbcProvider(name, secret),
                "aesgcm" => new AesGcmProvider(name, secret),
                _ => new SecretboxProvider(name, secret),
            });
        }

        return result;
    }

    /// <summary>The providers of a resource ("secrets", "deployments.apps"), or null when no rule names it.</summary>
    internal IReadOnlyList<EncryptionProvider>? ProvidersOf(string resource) =>
        _rules.Count == 0 ? null : _byResource.GetOrAdd(resource, r => Match(_rules, r));

    private static IReadOnlyList<EncryptionProvider>? Match(IReadOnlyList<(IReadOnlyList<string> Patterns, IReadOnlyList<EncryptionProvider> Providers)> rules, string resource)
    {
        var dot = resource.IndexOf('.', StringComparison.Ordinal);
        var group = dot < 0 ? string.Empty : resource[(dot + 1)..];
        foreach (var (patterns, providers) in rules)
        {
            foreach (var pattern in patterns)
            {
                // "secrets" (core), "deployments.apps", "*." (every core resource), "*.apps", "*.*" (everything).
                if (pattern == resource || pattern == "*.*" || pattern == $"*.{group}")
                {
                    return providers;
                }
            }
        }

        return null;
    }

    /// <summary>The resource segment of a storage key: "secrets" of /registry/secrets/NS/NAME.</summary>
    internal static string? ResourceOf(string storageKey)
    {
        const string registry = "/registry/";
        if (!storageKey.StartsWith(registry, StringComparison.Ordinal))
        {
            return null;
        }

        var end = storageKey.IndexOf('/', registry.Length);
        return end < 0 ? storageKey[registry.Length..] : storageKey[registry.Length..end];
    }

    /// <summary>The bytes to store for <paramref name="plain"/> under <paramref name="storageKey"/>; the same array when stored as is.</summary>
    internal ReadOnlyMemory<byte> ToStorage(string storageKey, ReadOnlyMemory<byte> plain)
    {
        var providers = ResourceOf(storageKey) is { } resource ? ProvidersOf(resource) : null;
        return providers is null || providers[0].KeyName.Length == 0 ? plain : providers[0].Encrypt(plain.Span, storageKey);
    }

    /// <summary>Whether a value needs decrypting, without a lookup for values stored as they are.</summary>
    internal static bool IsEncrypted(ReadOnlySpan<byte> stored) => stored.StartsWith("k8s:enc:"u8);

    /// <summary>The plain bytes of a stored value, found by the key prefix it carries.</summary>
    /// <exception cref="EncryptionException">No listed key wrote it, or it does not decrypt.</exception>
    internal ReadOnlyMemory<byte> FromStorage(string storageKey, ReadOnlyMemory<byte> stored)
    {
        var span = stored.Span;
        var providers = ResourceOf(storageKey) is { } resource ? ProvidersOf(resource) : null;
        if (!IsEncrypted(span))
        {
            if (providers is null || providers.Any(p => p.KeyName.Length == 0) || span.Length == 0)
            {
                return stored;
            }

            throw new EncryptionException(storageKey, "no matching prefix found (the value is not encrypted and identity is not a listed provider)");
        }

        foreach (var provider in providers ?? [])
        {
            if (provider.Prefix.Length > 0 && span.StartsWith(provider.Prefix))
            {
                return provider.Decrypt(span, storageKey);
            }
        }

        var header = Encoding.UTF8.GetString(span[..Math.Min(span.Length, 64)]);
        var parts = header.Split(':');
        var written = parts.Length >= 5 ? $"{parts[2]} key {parts[4]}" : "an unknown provider";
        throw new EncryptionException(storageKey, $"no matching prefix found: the value was encrypted with {written}, which the encryption configuration does not list");
    }
}
