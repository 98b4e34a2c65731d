using System.Text.Json;
using Kubesharp.Api.Generator;

if (args.Length >= 3 && args[0] == "protobuf")
{
    // protobuf BINARY... REPOSITORY-ROOT: later binaries override earlier ones file by file.
    var root = args[^1];
    var byName = new SortedDictionary<string, Google.Protobuf.Reflection.FileDescriptorProto>(StringComparer.Ordinal);
    foreach (var binary in args[1..^1])
    {
        foreach (var file in ProtobufDescriptors.Extract(File.ReadAllBytes(binary)))
        {
            byName[file.Name] = file;
        }
    }

    if (byName.Count == 0)
    {
        Console.Error.WriteLine("no k8s.io proto descriptors found");
        return 1;
    }

    var protobufOutput = new GeneratedOutput(root, [ProtobufEmitter.OutputPath[..ProtobufEmitter.OutputPath.LastIndexOf('/')]]);
    var emitter = new ProtobufEmitter([.. byName.Values], root, protobufOutput);
    foreach (var warning in emitter.Emit())
    {
        Console.Error.WriteLine("warning: " + warning);
    }

    protobufOutput.Commit();
    Console.WriteLine($"{byName.Count} proto files, {emitter.MessageCount} messages; wrote {protobufOutput.WrittenCount} files ({protobufOutput.ChangedCount} changed)");
    return 0;
}

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Kubesharp.Api.Generator SPEC REPOSITORY-ROOT");
    Console.Error.WriteLine("       Kubesharp.Api.Generator protobuf KUBECTL-BINARY... REPOSITORY-ROOT");
    return 2;
}

using var spec = JsonDocument.Parse(File.ReadAllBytes(args[0]));
var definitions = SpecDefinitions.Load(spec.RootElement);
var output = new GeneratedOutput(args[1]);

new TypeEmitter(definitions, output).Emit();
new JsonContextEmitter(definitions, output).Emit();
new SchemaEmitter(definitions, output).Emit();
new CatalogEmitter(definitions, spec.RootElement.GetProperty("paths"), output).Emit();

output.Commit();
Console.WriteLine($"wrote {output.WrittenCount} files ({output.ChangedCount} changed, {output.DeletedCount} removed)");
return 0;
