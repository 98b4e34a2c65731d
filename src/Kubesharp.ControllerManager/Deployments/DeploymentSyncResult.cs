using Kubesharp.Api.Apps.V1;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>The writes one Deployment reconcile decided on, in the order they are to be made.</summary>
internal sealed class DeploymentSyncResult
{
    public List<ReplicaSetChange> Changes { get; } = [];

    /// <summary>The Deployment's new revision annotation, when it changes.</summary>
    public string? Revision { get; set; }

    /// <summary>The new status, when it differs from the recorded one.</summary>
    public DeploymentStatus? Status { get; set; }

    /// <summary>Look again after this long (progress deadline checks).</summary>
    public TimeSpan? RequeueAfter { get; set; }

    public List<ControllerEvent> Events { get; } = [];
}
