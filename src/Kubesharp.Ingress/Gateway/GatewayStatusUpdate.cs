using System.Text.Json.Nodes;

namespace Kubesharp.Ingress.Gateway;

/// <summary>The status an object of the Gateway API should have: its API path and the whole status.</summary>
internal sealed record GatewayStatusUpdate(string Path, JsonObject Status);
