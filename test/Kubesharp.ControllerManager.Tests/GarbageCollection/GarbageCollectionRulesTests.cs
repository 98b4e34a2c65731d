using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.GarbageCollection;

namespace Kubesharp.ControllerManager.Tests.GarbageCollection;

public sealed class GarbageCollectionRulesTests
{
    private static OwnerReference Ref(string uid, bool block = true) => new() { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = uid, Uid = uid, BlockOwnerDeletion = block };

    private static ObjectMeta Item(params string[] finalizers) => new() { Name = "pod", Uid = "item", Finalizers = finalizers.Length > 0 ? [.. finalizers] : null };

    [Fact]
    public void ForDependent_AllOwnersGone_DeletesInBackground()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.Dangling)], hasDependents: false, dependentDeletingDependents: false);

        Assert.Equal(GarbageCollectionRules.Background, decision.DeletePolicy);
    }

    [Fact]
    public void ForDependent_OneOwnerAliveOneGone_DropsOnlyTheDanglingReference()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.Solid), (Ref("b"), OwnerState.Dangling)], false, false);

        Assert.Null(decision.DeletePolicy);
        Assert.Equal(["b"], decision.RemoveOwners);
        Assert.Equal(["a"], GarbageCollectionRules.Apply([Ref("a"), Ref("b")], decision).Select(r => r.Uid));
    }

    [Fact]
    public void ForDependent_OwnerGoneAfterOrphaning_DropsTheReferenceAndKeepsTheObject()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.Orphaned), (Ref("b"), OwnerState.Dangling)], false, false);

        Assert.Null(decision.DeletePolicy);
        Assert.Equal(["a"], decision.RemoveOwners);
        Assert.Equal(["b"], GarbageCollectionRules.Apply([Ref("a"), Ref("b")], decision).Select(r => r.Uid));
    }

    [Fact]
    public void ForDependent_OwnerAlive_DoesNothing()
    {
        Assert.True(GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.Solid)], false, false).IsNone);
    }

    [Fact]
    public void ForDependent_OwnerDeletingInForegroundAndItemHasDependents_DeletesInForeground()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.WaitingForDependentsDeletion)], hasDependents: true, dependentDeletingDependents: false);

        Assert.Equal(GarbageCollectionRules.Foreground, decision.DeletePolicy);
    }

    [Fact]
    public void ForDependent_OwnerDeletingInForegroundAndNoDependents_DeletesInBackground()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.WaitingForDependentsDeletion)], false, false);

        Assert.Equal(GarbageCollectionRules.Background, decision.DeletePolicy);
    }

    [Fact]
    public void ForDependent_ForegroundCycle_UnblocksInsteadOfDeleting()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.WaitingForDependentsDeletion)], hasDependents: true, dependentDeletingDependents: true);

        Assert.Null(decision.DeletePolicy);
        Assert.Equal(["a"], decision.UnblockOwners);
        Assert.False(GarbageCollectionRules.Apply([Ref("a")], decision).Single().BlockOwnerDeletion);
    }

    [Fact]
    public void ForDependent_LiveOwnerAndForegroundOwner_UnblocksTheForegroundOwner()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(), [(Ref("a"), OwnerState.Solid), (Ref("b"), OwnerState.WaitingForDependentsDeletion)], false, false);

        Assert.Null(decision.DeletePolicy);
        Assert.Equal(["b"], decision.UnblockOwners);
    }

    [Fact]
    public void ForDependent_ItemWithOrphanFinalizer_DeletesWithOrphanPolicy()
    {
        var decision = GarbageCollectionRules.ForDependent(Item(GarbageCollectionRules.OrphanFinalizer), [(Ref("a"), OwnerState.Dangling)], false, false);

        Assert.Equal(GarbageCollectionRules.Orphan, decision.DeletePolicy);
    }

    [Fact]
    public void ForDependent_ItemAlreadyBeingDeleted_DoesNothing()
    {
        var item = Item();
        item.DeletionTimestamp = Objects.Epoch;

        Assert.True(GarbageCollectionRules.ForDependent(item, [(Ref("a"), OwnerState.Dangling)], false, false).IsNone);
    }

    [Fact]
    public void Blocks_ReferenceWithBlockOwnerDeletion_True()
    {
        var dependent = new ObjectMeta { OwnerReferences = [Ref("a", block: true), Ref("b", block: false)] };

        Assert.True(GarbageCollectionRules.Blocks(dependent, "a"));
        Assert.False(GarbageCollectionRules.Blocks(dependent, "b"));
        Assert.False(GarbageCollectionRules.Blocks(dependent, "c"));
    }
}
