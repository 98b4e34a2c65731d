namespace Kubesharp.Client.Reconciliation;

/// <summary>The outcome of one reconcile: done, or check again after a delay (e.g. minReadySeconds).</summary>
public readonly record struct ReconcileResult(TimeSpan? RequeueAfter)
{
    public static ReconcileResult Done => default;

    public static ReconcileResult RequeueIn(TimeSpan delay) => new(delay);
}
