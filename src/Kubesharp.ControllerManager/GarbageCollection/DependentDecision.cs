namespace Kubesharp.ControllerManager.GarbageCollection;

/// <summary>What the garbage collector does with an object whose owners it has looked up.</summary>
/// <param name="RemoveOwners">Owner uids whose references are dropped (owners that are gone).</param>
/// <param name="UnblockOwners">Owner uids whose references stop blocking the owner's deletion.</param>
/// <param name="DeletePolicy">When set, the object is deleted with this propagation policy.</param>
internal sealed record DependentDecision(IReadOnlyList<string> RemoveOwners, IReadOnlyList<string> UnblockOwners, string? DeletePolicy)
{
    public static DependentDecision None { get; } = new([], [], null);

    public static DependentDecision Delete(string policy) => new([], [], policy);

    public bool IsNone => RemoveOwners.Count == 0 && UnblockOwners.Count == 0 && DeletePolicy is null;
}
