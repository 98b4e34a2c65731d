namespace Kubesharp.ControllerManager.Deployments;

internal enum ReplicaSetChangeKind
{
    Create,
    Update,
    Delete,
}
