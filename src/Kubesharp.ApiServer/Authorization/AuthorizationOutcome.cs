namespace Kubesharp.ApiServer.Authorization;

internal enum AuthorizationOutcome
{
    NoOpinion,
    Allow,
    Deny,
}
