using Kubesharp.Api.Apps.V1;
using Kubesharp.ControllerManager.Objects;

namespace Kubesharp.ControllerManager.Tests;

public sealed class ObjectCopyTests
{
    [Fact]
    public void SemanticEquals_ComputedZeroesAgainstStoredStatusShape_AreEqual()
    {
        // What the API stores: zero counters upstream leaves out are absent.
        var stored = new DeploymentStatus { ObservedGeneration = 2, CollisionCount = 0 };
        var computed = new DeploymentStatus { ObservedGeneration = 2, Replicas = 0, UpdatedReplicas = 0, ReadyReplicas = 0, AvailableReplicas = 0, UnavailableReplicas = 0, CollisionCount = 0 };

        Assert.True(ObjectCopy.SemanticEquals(stored, computed));
    }

    [Fact]
    public void SemanticEquals_OptionalZeroAgainstAbsent_Differ()
    {
        // collisionCount is optional: a 0 is a value the API keeps.
        Assert.False(ObjectCopy.SemanticEquals(new DeploymentStatus(), new DeploymentStatus { CollisionCount = 0 }));
        Assert.False(ObjectCopy.SemanticEquals(new DaemonSetStatus { NumberReady = 0 }, new DaemonSetStatus { NumberReady = 1 }));
    }
}
