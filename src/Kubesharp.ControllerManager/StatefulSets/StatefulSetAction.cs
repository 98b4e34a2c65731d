using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.StatefulSets;

/// <summary>One pod change of a StatefulSet sync, with its ordinal.</summary>
internal sealed record StatefulSetAction(StatefulSetActionKind Kind, int Ordinal, Pod Pod);
