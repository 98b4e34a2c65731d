namespace Kubesharp.ApiServer.Audit;

/// <summary>What the policy asks for one request: its level, the stages left out and whether managedFields are dropped.</summary>
internal sealed record AuditRequirement(AuditLevel Level, IReadOnlySet<AuditStage> OmitStages, bool OmitManagedFields)
{
    public static readonly AuditRequirement None = new(AuditLevel.None, new HashSet<AuditStage>(), false);
}
