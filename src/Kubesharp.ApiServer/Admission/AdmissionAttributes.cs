using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiMachinery.Schema;
using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Admission;

/// <summary>
/// One request as admission plugins see it (upstream's admission.Attributes): the operation, the object being
/// written (mutating plugins change it in place), the object before the write, the resource and subresource,
/// namespace, name, user, whether it is a dry run and the operation's options.
/// </summary>
internal sealed class AdmissionAttributes
{
    public required AdmissionOperation Operation { get; init; }

    /// <summary>The new object (null for DELETE); for CONNECT, the connect options.</summary>
    public JsonObject? Object { get; set; }

    /// <summary>The stored object for UPDATE and DELETE.</summary>
    public JsonObject? OldObject { get; init; }

    public required ApiResource Resource { get; init; }

    /// <summary>The subresource written ("status", "scale", "exec"...), empty for the main resource.</summary>
    public string Subresource { get; init; } = string.Empty;

    /// <summary>The kind of <see cref="Object"/> (the resource's kind unless a subresource has its own).</summary>
    public required GroupVersionKind Kind { get; init; }

    public string Namespace { get; init; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public required UserInfo User { get; init; }

    public bool DryRun { get; init; }

    /// <summary>CreateOptions, UpdateOptions, DeleteOptions or the connect options, as upstream sends them to webhooks.</summary>
    public JsonObject? Options { get; init; }

    public required AdmissionContext Context { get; init; }

    /// <summary>Set by the mutating webhooks when one changed the object, so built-in plugins run again.</summary>
    public bool ReinvokeBuiltins { get; set; }

    public string OperationName => Operation switch
    {
        AdmissionOperation.Create => "CREATE",
        AdmissionOperation.Update => "UPDATE",
        AdmissionOperation.Delete => "DELETE",
        _ => "CONNECT",
    };

    /// <summary>An admission refusal for this request: 403 naming the resource and object, as upstream's NewForbidden.</summary>
    public Http.StatusError Forbidden(string detail, IReadOnlyList<Http.StatusCause>? causes = null) =>
        Http.StatusError.Forbidden(Resource.Resource, Resource.Group, Name, detail, causes);
}
