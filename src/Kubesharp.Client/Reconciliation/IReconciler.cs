namespace Kubesharp.Client.Reconciliation;

/// <summary>Moves the object named by <c>namespace/name</c> toward its spec, reading current state (level-triggered).</summary>
public interface IReconciler
{
    Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken);
}
