namespace Kubesharp.ControllerManager.GarbageCollection;

/// <summary>What the garbage collector found when it looked up one owner of an object.</summary>
internal enum OwnerState
{
    /// <summary>Exists with the referenced uid and is not waiting for its dependents.</summary>
    Solid,

    /// <summary>Gone, or replaced by an object with another uid.</summary>
    Dangling,

    /// <summary>Being deleted in the foreground: it waits for blocking dependents to go first.</summary>
    WaitingForDependentsDeletion,

    /// <summary>
    /// Gone after a deletion that orphaned its dependents: a dependent the collector saw only after the orphaning
    /// loses the reference and stays, as the deletion asked.
    /// </summary>
    Orphaned,
}
