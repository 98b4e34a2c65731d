using Kubesharp.ApiServer.Security;

namespace Kubesharp.ApiServer.InProcess;

/// <summary>
/// The requester the in-process transport itself vouches for: one of the server's own components, known by the name
/// and groups it was created with. Only <see cref="InProcessHandler"/> sets it; nothing that arrives over a socket can.
/// </summary>
internal interface ITransportIdentityFeature
{
    UserInfo User { get; }
}
