using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Printing;

/// <summary>
/// How one kind prints as a meta.k8s.io/v1 Table: its columns and how an object becomes a row, one cell per column
/// (priority 1 cells included: kubectl drops them without -o wide, as it does with upstream's tables).
/// </summary>
internal sealed class ResourceTable
{
    public static readonly TableColumn NameColumn = new("Name", "string", "name", "Name must be unique within a namespace.");

    private readonly Func<PrintedObject, JsonArray> _row;

    public ResourceTable(IReadOnlyList<TableColumn> columns, Func<PrintedObject, JsonArray> row)
    {
        Columns = columns;
        _row = row;
    }

    /// <summary>Upstream's table for kinds without a printer of their own: the name and the creation time (RFC 3339).</summary>
    public static ResourceTable Default { get; } = new TableBuilder()
        .Name()
        .Column("Created At", "When the object was created.", o => o.CreatedAt, type: "date")
        .Build();

    public IReadOnlyList<TableColumn> Columns { get; }

    public JsonArray Row(JsonElement obj, DateTimeOffset now) => _row(new PrintedObject(obj, now));
}
