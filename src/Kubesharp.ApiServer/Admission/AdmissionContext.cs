using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.Admission;

/// <summary>
/// What a client request brings to admission: who asks, and where warnings for the client go. Writes the server
/// makes for itself carry no context and skip admission, as upstream's internal storage writes do.
/// </summary>
internal sealed class AdmissionContext(UserInfo user, Action<string> warn, Action<string, string>? annotate = null)
{
    public UserInfo User { get; } = user;

    /// <summary>Adds a Warning header to the response, before or beside an error.</summary>
    public void Warn(string message) => warn(message);

    /// <summary>Adds an annotation to the request's audit event (nothing when the request is not audited).</summary>
    public void AddAuditAnnotation(string key, string value) => annotate?.Invoke(key, value);
}
