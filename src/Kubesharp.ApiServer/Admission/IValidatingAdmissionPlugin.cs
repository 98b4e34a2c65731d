namespace Kubesharp.ApiServer.Admission;

/// <summary>A plugin that accepts or refuses (by throwing a StatusError) the object as it will be stored.</summary>
internal interface IValidatingAdmissionPlugin : IAdmissionPlugin
{
    ValueTask ValidateAsync(AdmissionAttributes attributes, CancellationToken cancellationToken);
}
