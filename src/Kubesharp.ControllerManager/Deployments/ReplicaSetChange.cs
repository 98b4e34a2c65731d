using Kubesharp.Api.Apps.V1;

namespace Kubesharp.ControllerManager.Deployments;

/// <summary>A write the Deployment controller makes to one of its ReplicaSets.</summary>
internal sealed record ReplicaSetChange(ReplicaSetChangeKind Kind, ReplicaSet ReplicaSet);
