namespace Kubesharp.ApiServer.Audit;

/// <summary>How much of a request an event records; each level includes the ones before it.</summary>
internal enum AuditLevel
{
    None,
    Metadata,
    Request,
    RequestResponse,
}
