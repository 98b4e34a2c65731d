using System.Globalization;
using System.Text;

namespace Kubesharp.Api.Generator;

/// <summary>
/// Writes the System.Text.Json source-generation context listing every record and every collection of
/// records, each under a name unique across group-versions (autoscaling v1 and v2 share type names).
/// </summary>
internal sealed class JsonContextEmitter(SpecDefinitions definitions, GeneratedOutput output)
{
    private readonly CSharpTypes types = new(definitions);

    public void Emit()
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in definitions.Records)
        {
            entries[d.Prefix + d.TypeName] = d.CSharpReference;
            foreach (var (_, schema) in d.Properties)
            {
                for (var type = types.Resolve(schema); type.IsCollection; type = type.Element!)
                {
                    entries[type.UniqueName] = type.Text;
                }
            }
        }

        var sb = new StringBuilder();
        sb.Append(TypeEmitter.Header).Append("#nullable enable\n\n");
        sb.Append("namespace Kubesharp.Api;\n\n");
        sb.Append("[global::System.Text.Json.Serialization.JsonSourceGenerationOptions(\n");
        sb.Append("    DefaultIgnoreCondition = global::System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,\n");
        sb.Append("    NumberHandling = global::System.Text.Json.Serialization.JsonNumberHandling.Strict,\n");
        sb.Append("    UnmappedMemberHandling = global::System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,\n");
        sb.Append("    PropertyNameCaseInsensitive = false,\n");
        sb.Append("    GenerationMode = global::System.Text.Json.Serialization.JsonSourceGenerationMode.Default)]\n");
        foreach (var (name, text) in entries)
        {
            sb.Append(CultureInfo.InvariantCulture, $"[global::System.Text.Json.Serialization.JsonSerializable(typeof({text}), TypeInfoPropertyName = \"{name}\")]\n");
        }

        sb.Append("public sealed partial class KubernetesJsonContext : global::System.Text.Json.Serialization.JsonSerializerContext;\n");
        output.Add("src/Kubesharp.Api/KubernetesJsonContext.g.cs", sb.ToString());
    }
}
