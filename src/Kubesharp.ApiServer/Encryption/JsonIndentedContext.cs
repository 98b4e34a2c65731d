using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiServer.Encryption;

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class JsonIndentedContext : JsonSerializerContext;
