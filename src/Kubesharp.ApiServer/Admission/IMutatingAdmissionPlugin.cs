namespace Kubesharp.ApiServer.Admission;

/// <summary>A plugin that may change the object before it is validated and stored.</summary>
internal interface IMutatingAdmissionPlugin : IAdmissionPlugin
{
    ValueTask AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken);
}
