namespace Kubesharp.ControllerManager.StatefulSets;

internal enum StatefulSetActionKind
{
    /// <summary>Create the pod (and first its missing claims).</summary>
    Create,

    /// <summary>Delete the pod: scaled away, or replaced by a rolling update.</summary>
    Delete,

    /// <summary>Delete a pod that failed or finished so that it is created again.</summary>
    Recreate,
}
