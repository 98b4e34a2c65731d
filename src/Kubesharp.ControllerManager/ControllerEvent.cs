namespace Kubesharp.ControllerManager;

/// <summary>An event a reconcile wants recorded against the object it reconciled.</summary>
internal sealed record ControllerEvent(string Type, string Reason, string Message)
{
    public static ControllerEvent Normal(string reason, string message) => new("Normal", reason, message);

    public static ControllerEvent Warning(string reason, string message) => new("Warning", reason, message);
}
