namespace Kubesharp.ApiServer.Admission;

/// <summary>The operations admission sees (upstream's CREATE, UPDATE, DELETE, CONNECT).</summary>
internal enum AdmissionOperation
{
    Create,
    Update,
    Delete,
    Connect,
}
