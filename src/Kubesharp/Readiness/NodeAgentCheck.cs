namespace Kubesharp.Readiness;

/// <summary>
/// The <c>node-agent</c> readiness check of <c>kubesharp server</c>: fails while the server's own node is
/// starting and, with the reason, when it could not start (no containerd, no sandbox image, …), so a server
/// without its node never reports ready.
/// </summary>
internal sealed class NodeAgentCheck
{
    private volatile Task? _ready;
    private volatile string? _failure;

    /// <summary>The kubelet started; <paramref name="ready"/> completes once it registered the node and listed its pods.</summary>
    public void Started(Task ready) => _ready = ready;

    public void Failed(Exception exception) => _failure = exception.GetBaseException().Message;

    /// <summary>The reason the node could not start, once known.</summary>
    public string? Failure => _failure ?? (_ready is { IsFaulted: true } ready ? ready.Exception!.GetBaseException().Message : null);

    public string? Check() => Failure is { } failure
        ? $"the node agent could not start: {failure}"
        : _ready is { IsCompletedSuccessfully: true } ? null : "the node agent is starting";
}
