namespace Kubesharp.ApiMachinery.ManagedFields;

/// <summary>A field the applier wants to change that another manager owns.</summary>
public sealed record ApplyConflict(ManagedFieldsEntry Owner, IReadOnlyList<PathElement> Path)
{
    public string PathText => FieldSet.PathText(Path);
}
