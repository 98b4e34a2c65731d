using System.Collections;
using System.CommandLine;
using YamlDotNet.RepresentationModel;

namespace Kubesharp.Configuration;

/// <summary>
/// Flags from a config file and the environment, as k3s takes them: <c>/etc/kubesharp/config.yaml</c> (or
/// <c>--config PATH</c>, or <c>KUBESHARP_CONFIG_FILE</c>) and then <c>config.yaml.d/*.yaml</c> beside it in name
/// order hold any flag of the verb, keyed by its name without dashes; a list repeats the flag; a later file
/// replaces a key, <c>key+:</c> appends to it. <c>KUBESHARP_FLAG_NAME</c> variables come next. Flags on the
/// command line win over both, the environment over the files. The result is more command-line arguments, so
/// every value goes through the verb's own parsing and validation.
/// </summary>
internal static class ConfigurationArguments
{
    public const string DefaultPath = "/etc/kubesharp/config.yaml";
    public const string EnvironmentPrefix = "KUBESHARP_";
    public const string ConfigFileVariable = "KUBESHARP_CONFIG_FILE";

    public static Option<string?> ConfigOption { get; } = new("--config", "-c")
    {
        Description = $"The config file holding flags (default {DefaultPath}, then config.yaml.d/*.yaml beside it; KUBESHARP_CONFIG_FILE).",
        Recursive = true,
    };

    /// <summary>The arguments with the config files' and environment's flags the command line does not set, inserted after the verb.</summary>
    public static string[] Expand(RootCommand root, string[] args, IDictionary environment, TextWriter warnings)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        Command command = root;
        var verbEnd = 0;
        while (verbEnd < args.Length && command.Subcommands.FirstOrDefault(c => c.Name == args[verbEnd]) is { } sub)
        {
            command = sub;
            verbEnd++;
        }

        if (ReferenceEquals(command, root) || args.Contains("--help") || args.Contains("-h"))
        {
            return args;
        }

        var options = AllOptions(command).ToList();
        var byName = new Dictionary<string, Option>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            byName.TryAdd(option.Name.TrimStart('-'), option);
        }

        var given = GivenOptions(args.AsSpan(verbEnd), options);
        var explicitPath = ValueOf(args, "--config") ?? ValueOf(args, "-c");
        var path = explicitPath ?? (environment[ConfigFileVariable] as string is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultPath);
        var values = ReadFiles(path, required: explicitPath is not null);

        foreach (var (key, option) in byName)
        {
            var variable = EnvironmentPrefix + key.ToUpperInvariant().Replace('-', '_');
            if (environment[variable] is string { } value && variable != ConfigFileVariable)
            {
                values[key] = IsList(option) ? [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : [value];
            }
        }

        var added = new List<string>();
        foreach (var (key, list) in values)
        {
            if (!byName.TryGetValue(key, out var option))
            {
                warnings.WriteLine($"kubesharp: the config key {key} is not a flag of '{command.Name}'; ignored");
                continue;
            }

            if (given.Contains(option) || option == ConfigOption)
            {
                continue;
            }

            foreach (var value in list)
            {
                added.Add(option.Name);
                added.Add(value);
            }
        }

        return [.. args[..verbEnd], .. added, .. args[verbEnd..]];
    }

    private static IEnumerable<Option> AllOptions(Command command)
    {
        foreach (var option in command.Options)
        {
            yield return option;
        }

        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in parent.Options.Where(o => o.Recursive))
            {
                yield return option;
            }
        }
    }

    private static HashSet<Option> GivenOptions(ReadOnlySpan<string> args, List<Option> options)
    {
        var given = new HashSet<Option>();
        foreach (var arg in args)
        {
            if (arg == "--")
            {
                break;
            }

            if (!arg.StartsWith('-'))
            {
                continue;
            }

            var name = arg.Split('=', 2)[0];
            if (options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name)) is { } option)
            {
                given.Add(option);
            }
        }

        return given;
    }

    private static bool IsList(Option option) => option.ValueType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(option.ValueType);

    private static string? ValueOf(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name && i + 1 < args.Length)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }

        return null;
    }

    /// <summary>The main file, then the drop-in directory's files in name order; keys keep their first place.</summary>
    private static Dictionary<string, List<string>> ReadFiles(string path, bool required)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            Merge(values, path);
        }
        else if (required)
        {
            throw new FileNotFoundException($"the config file {path} does not exist", path);
        }

        var dropIns = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/", Path.GetFileName(path) + ".d");
        if (Directory.Exists(dropIns))
        {
            foreach (var file in Directory.EnumerateFiles(dropIns).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                Merge(values, file);
            }
        }

        return values;
    }

    private static void Merge(Dictionary<string, List<string>> values, string file)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(file))
        {
            try
            {
                yaml.Load(reader);
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw new InvalidDataException($"the config file {file} is not valid YAML: {e.Message}", e);
            }
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return;
        }

        if (yaml.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            throw new InvalidDataException($"the config file {file} must be a mapping of flag names to values");
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            var append = key.EndsWith('+');
            key = key.TrimEnd('+').TrimStart('-');
            List<string> list = valueNode switch
            {
                YamlSequenceNode sequence => [.. sequence.Children.Select(Scalar)],
                _ => [Scalar(valueNode)],
            };
            if (append && values.TryGetValue(key, out var existing))
            {
                existing.AddRange(list);
            }
            else
            {
                values[key] = list;
            }
        }

        string Scalar(YamlNode node) => node is YamlScalarNode scalar
            ? scalar.Value ?? string.Empty
            : throw new InvalidDataException($"the config file {file} holds a nested value; flags take scalars or lists of them");
    }
}
