namespace Kubesharp.ApiServer.Authorization;

/// <summary>What one authorizer says about a request; the chain asks the next one on <see cref="NoOpinion"/>.</summary>
internal readonly record struct AuthorizationDecision(AuthorizationOutcome Outcome, string Reason)
{
    public static AuthorizationDecision NoOpinion(string reason = "") => new(AuthorizationOutcome.NoOpinion, reason);

    public static AuthorizationDecision Allow(string reason = "") => new(AuthorizationOutcome.Allow, reason);

    public bool Allowed => Outcome == AuthorizationOutcome.Allow;
}
