using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// A request body as an object, and the parsed JSON document it was made from while the two are the same (none for
/// YAML or protobuf bodies). Read-only checks walk <see cref="Parsed"/>, so the object is expanded into nodes only
/// where the request changes it.
/// </summary>
internal readonly record struct ParsedBody(JsonObject Object, JsonElement? Parsed);
