using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Kubesharp.ApiServer.Caching;

[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class StoredJsonContext : JsonSerializerContext;
