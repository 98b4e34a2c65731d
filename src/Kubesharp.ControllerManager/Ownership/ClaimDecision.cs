namespace Kubesharp.ControllerManager.Ownership;

/// <summary>What a controller does with one candidate object when it claims objects by selector.</summary>
internal enum ClaimDecision
{
    /// <summary>Not ours (another controller's, or neither matching nor owned).</summary>
    Ignore,

    /// <summary>Already ours and still matching.</summary>
    Keep,

    /// <summary>Orphan that matches the selector: add our controller reference.</summary>
    Adopt,

    /// <summary>Ours but no longer matching: remove our reference.</summary>
    Release,
}
