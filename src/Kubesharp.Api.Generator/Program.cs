using System.Text.Json;
using Kubesharp.Api.Generator;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Kubesharp.Api.Generator SPEC REPOSITORY-ROOT");
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
