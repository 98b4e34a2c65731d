using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiServer.Admission;

/// <summary>
/// upstream's --admission-control-config-file: an AdmissionConfiguration (apiserver.config.k8s.io/v1, or the older
/// apiserver.k8s.io/v1alpha1) listing each plugin's configuration, inline under <c>configuration</c> or in a file
/// named by <c>path</c> (relative to the configuration file's directory).
/// </summary>
internal sealed class AdmissionConfigurationFile
{
    private readonly Dictionary<string, JsonObject> _plugins;

    private AdmissionConfigurationFile(Dictionary<string, JsonObject> plugins) => _plugins = plugins;

    public static AdmissionConfigurationFile Empty { get; } = new(new Dictionary<string, JsonObject>(StringComparer.Ordinal));

    /// <summary>The plugins the file configures.</summary>
    public IEnumerable<string> Plugins => _plugins.Keys;

    /// <summary>The configuration the file gives <paramref name="plugin"/>, or null.</summary>
    public JsonObject? For(string plugin) => _plugins.GetValueOrDefault(plugin);

    /// <exception cref="FormatException">The file cannot be read or is not an AdmissionConfiguration.</exception>
    public static AdmissionConfigurationFile Load(string path)
    {
        var root = Read(path, "the admission configuration");
        if (root["kind"]?.GetValue<string>() != "AdmissionConfiguration" || root["apiVersion"]?.GetValue<string>() is not ("apiserver.config.k8s.io/v1" or "apiserver.k8s.io/v1alpha1"))
        {
            throw new FormatException($"the admission configuration {path} must be kind AdmissionConfiguration of apiVersion apiserver.config.k8s.io/v1");
        }

        var plugins = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var index = 0;
        foreach (var node in root["plugins"] as JsonArray ?? [])
        {
            var at = $"{path}: plugins[{index++}]";
            if (node is not JsonObject entry || entry["name"]?.GetValueKind() != System.Text.Json.JsonValueKind.String || (string?)entry["name"] is not { Length: > 0 } name)
            {
                throw new FormatException($"{at} must name a plugin");
            }

            var configuration = entry["configuration"] switch
            {
                JsonObject inline => (JsonObject)inline.DeepClone(),
                null when entry["path"]?.GetValueKind() == System.Text.Json.JsonValueKind.String =>
                    Read(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", (string)entry["path"]!), $"the configuration of admission plugin {name}"),
                _ => throw new FormatException($"{at} ({name}) needs a configuration object or a path"),
            };
            if (!plugins.TryAdd(name, configuration))
            {
                throw new FormatException($"{at}: plugin {name} is configured twice");
            }
        }

        return new AdmissionConfigurationFile(plugins);
    }

    private static JsonObject Read(string path, string what)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"{what} {path} cannot be read: {ex.Message}", ex);
        }

        try
        {
            return YamlDecoder.Decode(text) as JsonObject ?? throw new FormatException($"{what} {path} is not an object");
        }
        catch (Exception ex) when (ex is not (FormatException or OutOfMemoryException))
        {
            throw new FormatException($"{what} {path} is not YAML or JSON: {ex.Message}", ex);
        }
    }
}
