namespace Kubesharp.ApiServer.Admission;

/// <summary>A named admission plugin and the operations it looks at.</summary>
internal interface IAdmissionPlugin
{
    string Name { get; }

    bool Handles(AdmissionAttributes attributes);
}
