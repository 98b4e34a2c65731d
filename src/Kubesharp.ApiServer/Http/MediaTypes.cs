using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>What form of response the client asked for in Accept.</summary>
internal enum ResponseForm
{
    Object,
    Table,
    PartialObjectMetadata,
}

internal static class MediaTypes
{
    public const string TableContentType = "application/json;as=Table;v=v1;g=meta.k8s.io";
    public const string JsonPatch = "application/json-patch+json";
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string ApplyPatch = "application/apply-patch+yaml";

    /// <summary>Picks the first acceptable entry of Accept; JSON is the only encoding served.</summary>
    public static ResponseForm Negotiate(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        if (string.IsNullOrWhiteSpace(accept))
        {
            return ResponseForm.Object;
        }

        var anyAcceptable = false;
        foreach (var entry in accept.Split(','))
        {
            var parts = entry.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            var type = parts[0].ToLowerInvariant();
            if (type is not ("application/json" or "*/*" or "application/*" or "application/yaml"))
            {
                continue;
            }

            anyAcceptable = true;
            string? @as = null, group = null;
            foreach (var p in parts.Skip(1))
            {
                var kv = p.Split('=', 2, StringSplitOptions.TrimEntries);
                if (kv.Length != 2)
                {
                    continue;
                }

                switch (kv[0])
                {
                    case "as":
                        @as = kv[1];
                        break;
                    case "g":
                        group = kv[1];
                        break;
                }
            }

            if (@as is null)
            {
                return ResponseForm.Object;
            }

            if (group == "meta.k8s.io" && @as == "Table")
            {
                return ResponseForm.Table;
            }

            if (group == "meta.k8s.io" && @as is "PartialObjectMetadata" or "PartialObjectMetadataList")
            {
                return ResponseForm.PartialObjectMetadata;
            }
        }

        if (!anyAcceptable)
        {
            throw StatusError.NotAcceptable("only the following media types are accepted: application/json, application/yaml");
        }

        return ResponseForm.Object;
    }

    public static string BaseType(string? contentType) =>
        (contentType ?? string.Empty).Split(';')[0].Trim().ToLowerInvariant();
}
