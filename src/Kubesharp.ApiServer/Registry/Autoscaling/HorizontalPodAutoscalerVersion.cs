using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.Registry.Autoscaling;

/// <summary>
/// One served version of horizontalpodautoscalers: objects are stored as autoscaling/v2 and this version reads and
/// writes them through <see cref="HorizontalPodAutoscalerConversion"/>.
/// </summary>
internal sealed class HorizontalPodAutoscalerVersion(ResourceDefinition basis)
    : ResourceDefinition(basis)
{
    private readonly bool isV1 = basis.Resource.ApiVersion == HorizontalPodAutoscalerConversion.V1;

    public override bool Converts => true;

    protected override CachedObject Present(CachedObject stored)
    {
        if (stored.Root.TryGetProperty("apiVersion", out var apiVersion) && apiVersion.ValueKind == JsonValueKind.String && apiVersion.ValueEquals(Resource.ApiVersion))
        {
            return stored;
        }

        return CachedObject.FromNode(stored.Key, Convert(stored.ToNode(), isV1), stored.Revision);
    }

    protected override JsonObject ToStorage(JsonObject obj) =>
        (string?)obj["apiVersion"] == HorizontalPodAutoscalerConversion.V2 ? obj : HorizontalPodAutoscalerConversion.ToV2(obj);

    private static JsonObject Convert(JsonObject obj, bool toV1) =>
        toV1 ? HorizontalPodAutoscalerConversion.ToV1(obj) : HorizontalPodAutoscalerConversion.ToV2(obj);
}
