using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>
/// A node's <c>registries.yaml</c> in k3s's shape: <c>mirrors</c> (per registry name, or <c>*</c> for every registry:
/// <c>endpoint</c> URLs and <c>rewrite</c> rules, applied to pulls from the endpoints by <see cref="MirrorRewriteImageService"/>) and <c>configs</c> (per registry host: <c>auth</c> and <c>tls</c>).
/// containerd gets it as a hosts directory and registry credentials (<see cref="ContainerdConfig"/>).
/// </summary>
public sealed record RegistriesConfiguration(
    IReadOnlyDictionary<string, RegistryMirror> Mirrors,
    IReadOnlyDictionary<string, RegistryHostConfig> Configs)
{
    /// <summary>Where a node looks for the file unless told otherwise.</summary>
    public const string DefaultPath = "/etc/kubesharp/registries.yaml";

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    public static RegistriesConfiguration Empty { get; } = new(new Dictionary<string, RegistryMirror>(), new Dictionary<string, RegistryHostConfig>());

    /// <summary>Reads the file; a missing file is an empty configuration, a malformed one an <see cref="InvalidDataException"/>.</summary>
    public static RegistriesConfiguration Load(string? path)
    {
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            return Empty;
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static RegistriesConfiguration Parse(string yaml)
    {
        JsonNode? root;
        try
        {
            root = YamlDecoder.Decode(yaml);
        }
        catch (StatusException e)
        {
            throw new InvalidDataException(e.Message, e);
        }

        if (root is null)
        {
            return Empty;
        }

        var document = root as JsonObject ?? throw new InvalidDataException("the file must be a mapping with mirrors and configs");
        foreach (var (key, _) in document)
        {
            if (key is not ("mirrors" or "configs"))
            {
                throw new InvalidDataException($"unknown field \"{key}\" (mirrors, configs)");
            }
        }

        var mirrors = new Dictionary<string, RegistryMirror>(StringComparer.Ordinal);
        foreach (var (name, value) in Entries(document["mirrors"], "mirrors"))
        {
            var entry = Fields(value, $"mirrors.{name}");
            Known(entry, $"mirrors.{name}", "endpoint", "rewrite");
            var endpoints = new List<Uri>();
            foreach (var endpoint in Sequence(entry["endpoint"], $"mirrors.{name}.endpoint"))
            {
                endpoints.Add(Endpoint(endpoint, $"mirrors.{name}.endpoint"));
            }

            var rewrites = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (pattern, replacement) in Entries(entry["rewrite"], $"mirrors.{name}.rewrite"))
            {
                try
                {
                    _ = new Regex(pattern, RegexOptions.None, RegexTimeout);
                }
                catch (ArgumentException e)
                {
                    throw new InvalidDataException($"mirrors.{name}.rewrite: \"{pattern}\" is not a regular expression: {e.Message}", e);
                }

                rewrites[pattern] = Text(replacement, $"mirrors.{name}.rewrite.{pattern}") ?? "";
            }

            mirrors[RegistryName(name, "mirrors")] = new RegistryMirror(endpoints, rewrites);
        }

        var configs = new Dictionary<string, RegistryHostConfig>(StringComparer.Ordinal);
        foreach (var (host, value) in Entries(document["configs"], "configs"))
        {
            var entry = Fields(value, $"configs.{host}");
            Known(entry, $"configs.{host}", "auth", "tls");
            RegistryAuth? auth = null;
            if (entry["auth"] is { } authNode)
            {
                var fields = Fields(authNode, $"configs.{host}.auth");
                Known(fields, $"configs.{host}.auth", "username", "password", "auth", "identitytoken", "identity_token");
                auth = new RegistryAuth(
                    Text(fields["username"], $"configs.{host}.auth.username"),
                    Text(fields["password"], $"configs.{host}.auth.password"),
                    Text(fields["auth"], $"configs.{host}.auth.auth"),
                    Text(fields["identitytoken"] ?? fields["identity_token"], $"configs.{host}.auth.identitytoken"));
            }

            RegistryTls? tls = null;
            if (entry["tls"] is { } tlsNode)
            {
                var fields = Fields(tlsNode, $"configs.{host}.tls");
                Known(fields, $"configs.{host}.tls", "ca_file", "cert_file", "key_file", "insecure_skip_verify");
                var cert = Text(fields["cert_file"], $"configs.{host}.tls.cert_file");
                var key = Text(fields["key_file"], $"configs.{host}.tls.key_file");
                if ((cert is null) != (key is null))
                {
                    throw new InvalidDataException($"configs.{host}.tls: cert_file and key_file go together");
                }

                tls = new RegistryTls(
                    Text(fields["ca_file"], $"configs.{host}.tls.ca_file"),
                    cert,
                    key,
                    Flag(fields["insecure_skip_verify"], $"configs.{host}.tls.insecure_skip_verify"));
            }

            configs[RegistryName(host, "configs")] = new RegistryHostConfig(auth, tls);
        }

        return new RegistriesConfiguration(mirrors, configs);
    }

    /// <summary>
    /// The references to pull an image by from mirrors that rewrite its repository, in endpoint order: for each endpoint of
    /// the image's registry's mirror (or of <c>*</c>), the endpoint's host, the repository as the first matching rule
    /// rewrites it, and the image's tag or digest. Empty when no rule matches; the registry itself never sees a rewrite.
    /// </summary>
    public IReadOnlyList<string> RewrittenReferences(string image)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        var reference = ImageReference.Parse(image);
        if ((Mirrors.GetValueOrDefault(reference.Registry) ?? Mirrors.GetValueOrDefault("*")) is not { Rewrites.Count: > 0 } mirror)
        {
            return [];
        }

        foreach (var (pattern, replacement) in mirror.Rewrites)
        {
            var regex = new Regex(pattern, RegexOptions.None, RegexTimeout);
            if (!regex.IsMatch(reference.Repository))
            {
                continue;
            }

            var repository = regex.Replace(reference.Repository, replacement);
            // A path on the endpoint is a prefix the mirror serves the registry under; it goes before the repository.
            return [.. mirror.Endpoints.Select(e => $"{e.Authority}{e.AbsolutePath.TrimEnd('/')}/{repository}{reference.Suffix}")];
        }

        return [];
    }

    /// <summary>A registry host as an image name has it (<c>host[:port]</c>) or <c>*</c>: no scheme, path or spaces.</summary>
    private static string RegistryName(string name, string section)
    {
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal) ||
            name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '\\'))
        {
            throw new InvalidDataException($"{section}: \"{name}\" is not a registry host[:port]");
        }

        return name;
    }

    private static Uri Endpoint(string text, string path)
    {
        // k3s takes an endpoint without a scheme as https.
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "https://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0 ||
            uri.Query.Length > 0 || uri.Fragment.Length > 0 || withScheme.Contains('"', StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: \"{text}\" is not an http or https URL");
        }

        return uri;
    }

    private static void Known(JsonObject entry, string path, params string[] names)
    {
        foreach (var (key, _) in entry)
        {
            if (!names.Contains(key, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"{path}: unknown field \"{key}\" ({string.Join(", ", names)})");
            }
        }
    }

    private static IEnumerable<KeyValuePair<string, JsonNode?>> Entries(JsonNode? node, string path) => node switch
    {
        null => [],
        JsonObject mapping => mapping.ToList(),
        _ => throw new InvalidDataException($"{path}: a mapping is expected"),
    };

    private static JsonObject Fields(JsonNode? node, string path) =>
        node as JsonObject ?? (node is null ? [] : throw new InvalidDataException($"{path}: a mapping is expected"));

    private static IEnumerable<string> Sequence(JsonNode? node, string path) => node switch
    {
        null => [],
        JsonArray items => items.Select(item => Text(item, path) ?? throw new InvalidDataException($"{path}: an empty entry")),
        _ => throw new InvalidDataException($"{path}: a list is expected"),
    };

    private static bool Flag(JsonNode? node, string path) => node?.GetValueKind() switch
    {
        null => false,
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        _ => throw new InvalidDataException($"{path}: a boolean is expected"),
    };

    private static string? Text(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String => value.GetValue<string>(),
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.Number => value.ToJsonString(),
        _ => throw new InvalidDataException($"{path}: a string is expected"),
    };
}
