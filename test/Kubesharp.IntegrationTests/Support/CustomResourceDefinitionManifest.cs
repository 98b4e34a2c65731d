using System.Text;

namespace Kubesharp.IntegrationTests.Support;

/// <summary>
/// A CustomResourceDefinition as the tests apply it, written as YAML: names and scope, its versions (one served and
/// stored <c>v1</c> whose spec keeps unknown fields unless told otherwise) and how versions convert (None, or the
/// Webhook at <see cref="Webhook"/>). Schema parts are YAML, flow (<c>{type: string}</c>) or block.
/// </summary>
public sealed record CustomResourceDefinitionManifest(string Group, string Plural, string Kind)
{
    public string Scope { get; init; } = "Namespaced";

    public string Singular { get; init; } = Kind.ToLowerInvariant();

    public string? ListKind { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    public IReadOnlyList<CustomResourceVersionManifest> Versions { get; init; } = [new("v1") { Storage = true }];

    /// <summary>The conversion webhook (its URL and CA bundle); null converts with strategy None.</summary>
    public (string Url, string CaBundle)? Webhook { get; init; }

    /// <summary>The definition's name, PLURAL.GROUP.</summary>
    public string Name => $"{Plural}.{Group}";

    public override string ToString() => ToYaml();

    public string ToYaml()
    {
        var yaml = new StringBuilder();
        yaml.Append($"""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: {Name}
            spec:
              group: {Group}
              scope: {Scope}
              names:
                plural: {Plural}
                singular: {Singular}
                kind: {Kind}

            """);
        Line(yaml, 4, "listKind", ListKind);
        Line(yaml, 4, "shortNames", ShortNames.Count > 0 ? $"[{string.Join(", ", ShortNames)}]" : null);
        Line(yaml, 4, "categories", Categories.Count > 0 ? $"[{string.Join(", ", Categories)}]" : null);
        if (Webhook is { } webhook)
        {
            yaml.Append($$"""
                  conversion:
                    strategy: Webhook
                    webhook:
                      conversionReviewVersions: [v1]
                      clientConfig: {url: "{{webhook.Url}}", caBundle: "{{webhook.CaBundle}}"}

                """);
        }

        yaml.Append("  versions:\n");
        foreach (var version in Versions)
        {
            version.Write(yaml);
        }

        return yaml.ToString();
    }

    /// <summary><c>key: value</c> at an indentation; a value of several lines goes below the key, indented further.</summary>
    internal static void Line(StringBuilder yaml, int indent, string key, string? value)
    {
        if (value is null)
        {
            return;
        }

        var pad = new string(' ', indent);
        var lines = value.TrimEnd().Split('\n');
        if (lines.Length == 1)
        {
            yaml.Append($"{pad}{key}: {lines[0]}\n");
            return;
        }

        yaml.Append($"{pad}{key}:\n");
        foreach (var line in lines)
        {
            yaml.Append($"{pad}  {line.TrimEnd('\r')}\n");
        }
    }
}

/// <summary>One version of a <see cref="CustomResourceDefinitionManifest"/>.</summary>
public sealed record CustomResourceVersionManifest(string Name)
{
    public bool Served { get; init; } = true;

    public bool Storage { get; init; }

    /// <summary>The schema of <c>spec</c>; by default an object that keeps whatever fields it is given.</summary>
    public string Spec { get; init; } = "{type: object, x-kubernetes-preserve-unknown-fields: true}";

    /// <summary>The schema of <c>status</c>, if it has one.</summary>
    public string? Status { get; init; }

    /// <summary>The schema's description (what <c>kubectl explain</c> prints).</summary>
    public string? Description { get; init; }

    /// <summary>The version's subresources, e.g. <c>{status: {}}</c>.</summary>
    public string? Subresources { get; init; }

    /// <summary>additionalPrinterColumns, each in flow form: <c>{name: Color, type: string, jsonPath: .spec.color}</c>.</summary>
    public IReadOnlyList<string> PrinterColumns { get; init; } = [];

    internal void Write(StringBuilder yaml)
    {
        yaml.Append($"  - name: {Name}\n    served: {(Served ? "true" : "false")}\n    storage: {(Storage ? "true" : "false")}\n");
        CustomResourceDefinitionManifest.Line(yaml, 4, "subresources", Subresources);
        if (PrinterColumns.Count > 0)
        {
            yaml.Append("    additionalPrinterColumns:\n");
            foreach (var column in PrinterColumns)
            {
                yaml.Append($"    - {column}\n");
            }
        }

        yaml.Append("    schema:\n      openAPIV3Schema:\n        type: object\n");
        CustomResourceDefinitionManifest.Line(yaml, 8, "description", Description);
        yaml.Append("        properties:\n");
        CustomResourceDefinitionManifest.Line(yaml, 10, "spec", Spec);
        CustomResourceDefinitionManifest.Line(yaml, 10, "status", Status);
    }
}
