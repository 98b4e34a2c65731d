using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Registry;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Http;

/// <summary>POST pods/NAME/eviction.</summary>
internal sealed partial class ResourceEndpoint
{
    private async Task EvictAsync(HttpContext context, ResourceRequest request)
    {
        var body = await RequestBody.ReadObjectAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        await registry.AdmitAsync(Kubesharp.ApiServer.Admission.AdmissionOperation.Create, request.Resource, "eviction", request.Namespace, request.Name!, body, IsDryRun(context), Admission(context), context.RequestAborted).ConfigureAwait(false);
        await new PodEviction(registry).EvictAsync(request.Resource, request.Namespace!, request.Name!, body, IsDryRun(context), context.RequestAborted).ConfigureAwait(false);
        await JsonResponses.WriteAsync(context, StatusCodes.Status201Created, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["code"] = 201,
        }).ConfigureAwait(false);
    }
}
