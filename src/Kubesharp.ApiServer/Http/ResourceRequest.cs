using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// A request addressed to a resource: /api/v1/namespaces/ns/pods/name/status and friends. <paramref name="LegacyWatch"/>
/// marks the deprecated /watch/ paths, which always watch (a named one watches that object alone).
/// </summary>
internal sealed record ResourceRequest(ApiResource Resource, string? Namespace, string? Name, string? Subresource, bool LegacyWatch = false);
