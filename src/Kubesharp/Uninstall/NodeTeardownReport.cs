namespace Kubesharp.Uninstall;

/// <summary>What a teardown removed.</summary>
internal sealed record NodeTeardownReport(int Processes, int Mounts, IReadOnlyList<string> Links, IReadOnlyList<string> Chains);
