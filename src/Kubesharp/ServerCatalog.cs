using Kubesharp.Api;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Discovery;

namespace Kubesharp;

/// <summary>The resources and OpenAPI documents the server publishes.</summary>
internal static class ServerCatalog
{
    public static IReadOnlyList<ApiResource> Resources => BuiltinResources.Complete(ApiCatalog.Resources);

    public static OpenApiEndpoint OpenApi => OpenApiEndpoint.BuiltIn();
}
