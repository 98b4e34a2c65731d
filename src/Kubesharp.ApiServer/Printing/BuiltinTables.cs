using System.Collections.Frozen;

namespace Kubesharp.ApiServer.Printing;

/// <summary>
/// The tables of the built-in kinds by group-resource, declared per API area (<see cref="CoreTables"/>,
/// <see cref="WorkloadTables"/>, <see cref="StorageTables"/>, <see cref="NetworkingTables"/>, <see cref="AccessTables"/>,
/// <see cref="ClusterTables"/>); a kind upstream prints without a printer of its own gets <see cref="ResourceTable.Default"/>.
/// </summary>
internal static class BuiltinTables
{
    private static readonly FrozenDictionary<string, ResourceTable> Tables = Build();

    public static ResourceTable For(string groupResource) => Tables.GetValueOrDefault(groupResource) ?? ResourceTable.Default;

    private static FrozenDictionary<string, ResourceTable> Build()
    {
        var tables = new Dictionary<string, ResourceTable>(StringComparer.Ordinal);
        CoreTables.AddTo(tables);
        WorkloadTables.AddTo(tables);
        StorageTables.AddTo(tables);
        NetworkingTables.AddTo(tables);
        AccessTables.AddTo(tables);
        ClusterTables.AddTo(tables);
        return tables.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
