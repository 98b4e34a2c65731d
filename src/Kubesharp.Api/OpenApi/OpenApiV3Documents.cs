namespace Kubesharp.Api.OpenApi;

/// <summary>The OpenAPI v3 discovery index and the per group-version documents it points to.</summary>
public sealed class OpenApiV3Documents(OpenApiDocument index, IReadOnlyDictionary<string, OpenApiDocument> groupVersions)
{
    /// <summary>The body of /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=…"},…}}.</summary>
    public OpenApiDocument Index { get; } = index;

    /// <summary>Documents by path below /openapi/v3/: "api/v1", "apis/apps/v1".</summary>
    public IReadOnlyDictionary<string, OpenApiDocument> GroupVersions { get; } = groupVersions;

    /// <summary>Finds the document for a path below /openapi/v3/ ("apis/apps/v1").</summary>
    public bool TryGet(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OpenApiDocument? document) =>
        GroupVersions.TryGetValue(path.Trim('/'), out document);
}
