namespace Kubesharp.Addons;

/// <summary>A manifest file's last applied content (null when its last apply failed part-way) and the objects it created.</summary>
internal sealed record AddonRecord(string? Checksum, IReadOnlyList<AddonObject> Objects);
