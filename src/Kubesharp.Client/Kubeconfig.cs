using System.Text;
using YamlDotNet.RepresentationModel;

namespace Kubesharp.Client;

/// <summary>Reads the clusters, users and contexts of a kubeconfig file into client options.</summary>
internal static class Kubeconfig
{
    public static KubernetesClientOptions Load(string path, string? contextName)
    {
        var text = File.ReadAllText(path);
        return Parse(text, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", contextName);
    }

    public static KubernetesClientOptions Parse(string text, string baseDirectory, string? contextName)
    {
        var yaml = new YamlStream();
        using (var reader = new StringReader(text))
        {
            yaml.Load(reader);
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new InvalidDataException("kubeconfig is empty");
        }

        contextName ??= Scalar(root, "current-context") ?? throw new InvalidDataException("kubeconfig has no current-context");
        var context = Named(root, "contexts", contextName, "context")
            ?? throw new InvalidDataException($"context \"{contextName}\" not found in kubeconfig");
        var clusterName = Scalar(context, "cluster") ?? throw new InvalidDataException($"context \"{contextName}\" has no cluster");
        var cluster = Named(root, "clusters", clusterName, "cluster")
            ?? throw new InvalidDataException($"cluster \"{clusterName}\" not found in kubeconfig");
        var userName = Scalar(context, "user");
        var user = userName is null ? null : Named(root, "users", userName, "user");

        var server = Scalar(cluster, "server") ?? throw new InvalidDataException($"cluster \"{clusterName}\" has no server");
        return new KubernetesClientOptions
        {
            Server = new Uri(server),
            CertificateAuthorityPem = Material(cluster, "certificate-authority", baseDirectory),
            InsecureSkipTlsVerify = Scalar(cluster, "insecure-skip-tls-verify") is "true",
            ClientCertificatePem = user is null ? null : Material(user, "client-certificate", baseDirectory),
            ClientKeyPem = user is null ? null : Material(user, "client-key", baseDirectory),
            BearerToken = user is null ? null : Scalar(user, "token") ?? TokenFile(user, baseDirectory),
        };
    }

    private static string? TokenFile(YamlMappingNode user, string baseDirectory) =>
        Scalar(user, "tokenFile") is { } file ? File.ReadAllText(Path.Combine(baseDirectory, file)).Trim() : null;

    /// <summary>Inline <c>NAME-data</c> (base64) wins over the file path <c>NAME</c>.</summary>
    private static string? Material(YamlMappingNode node, string name, string baseDirectory)
    {
        if (Scalar(node, name + "-data") is { } data)
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(data));
        }

        return Scalar(node, name) is { } file ? File.ReadAllText(Path.Combine(baseDirectory, file)) : null;
    }

    private static YamlMappingNode? Named(YamlMappingNode root, string listName, string name, string inner)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(listName), out var list) || list is not YamlSequenceNode sequence)
        {
            return null;
        }

        foreach (var entry in sequence.Children.OfType<YamlMappingNode>())
        {
            if (Scalar(entry, "name") == name && entry.Children.TryGetValue(new YamlScalarNode(inner), out var value))
            {
                return value as YamlMappingNode ?? new YamlMappingNode();
            }
        }

        return null;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;
}
