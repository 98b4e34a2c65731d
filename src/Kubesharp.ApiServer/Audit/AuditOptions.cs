namespace Kubesharp.ApiServer.Audit;

/// <summary>upstream's --audit-policy-file and --audit-log-* flags.</summary>
public sealed class AuditOptions
{
    /// <summary>An audit.k8s.io/v1 Policy file.</summary>
    public required string PolicyFile { get; init; }

    /// <summary>Where events go as JSON lines; "-" is standard output.</summary>
    public required string LogPath { get; init; }

    /// <summary>Days to keep rotated files (0: no limit).</summary>
    public int MaxAgeDays { get; init; }

    /// <summary>Rotated files to keep (0: all).</summary>
    public int MaxBackups { get; init; }

    /// <summary>Megabytes before the file is rotated (0: 100, as upstream's writer).</summary>
    public int MaxSizeMegabytes { get; init; }
}
