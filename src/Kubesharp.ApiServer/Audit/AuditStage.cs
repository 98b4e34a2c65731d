namespace Kubesharp.ApiServer.Audit;

/// <summary>When in a request's life an event is written.</summary>
internal enum AuditStage
{
    RequestReceived,
    ResponseStarted,
    ResponseComplete,
    Panic,
}
