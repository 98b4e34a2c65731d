using System.Text;

namespace Kubesharp.Api.Generator;

/// <summary>
/// Collects generated files and writes them at the end, removing generated files that are no longer
/// produced, so that regenerating is deterministic and leaves no stale types behind.
/// </summary>
internal sealed class GeneratedOutput(string root, IReadOnlyList<string>? generatedRoots = null)
{
    private static readonly string[] SpecRoots = ["src/Kubesharp.Api", "src/Kubesharp.ApiMachinery/Meta"];

    // Written by the protobuf mode from other input: the spec mode leaves it alone.
    private const string ProtobufRoot = "src/Kubesharp.Api/Protobuf/";

    private readonly IReadOnlyList<string> roots = generatedRoots ?? SpecRoots;

    private readonly SortedDictionary<string, string> files = new(StringComparer.Ordinal);

    public int WrittenCount => files.Count;

    public int ChangedCount { get; private set; }

    public int DeletedCount { get; private set; }

    public void Add(string relativePath, string content)
    {
        if (!files.TryAdd(relativePath, content))
        {
            throw new InvalidOperationException($"generated twice: {relativePath}");
        }
    }

    public void Commit()
    {
        foreach (var generatedRoot in roots)
        {
            var dir = Path.Combine(root, generatedRoot);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var existing in Directory.EnumerateFiles(dir, "*.g.*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, existing).Replace('\\', '/');
                var foreign = generatedRoots is null && relative.StartsWith(ProtobufRoot, StringComparison.Ordinal);
                if (!foreign && !files.ContainsKey(relative) && !relative.Contains("/obj/", StringComparison.Ordinal) && !relative.Contains("/bin/", StringComparison.Ordinal))
                {
                    File.Delete(existing);
                    DeletedCount++;
                }
            }
        }

        foreach (var (relative, content) in files)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var bytes = new UTF8Encoding(false).GetBytes(content);
            if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
            {
                continue;
            }

            File.WriteAllBytes(path, bytes);
            ChangedCount++;
        }
    }
}
