using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Printing;

/// <summary>
/// Declares a <see cref="ResourceTable"/> one column at a time, each column beside the cell that fills it, so a
/// kind's table reads like kubectl's output.
/// </summary>
internal sealed class TableBuilder
{
    private readonly List<TableColumn> _columns = [];
    private readonly List<Func<PrintedObject, JsonNode?>> _cells = [];

    /// <summary>The Name column (metadata.name unless <paramref name="cell"/> says otherwise).</summary>
    public TableBuilder Name(Func<PrintedObject, JsonNode?>? cell = null)
    {
        _columns.Add(ResourceTable.NameColumn);
        _cells.Add(cell ?? (o => o.Name));
        return this;
    }

    /// <summary>The Age column: time since metadata.creationTimestamp.</summary>
    public TableBuilder Age() => Column("Age", "Time since the object was created.", o => o.Age);

    public TableBuilder Column(string name, string description, Func<PrintedObject, JsonNode?> cell, string type = "string", string format = "")
    {
        _columns.Add(new TableColumn(name, type, format, description));
        _cells.Add(cell);
        return this;
    }

    /// <summary>A column kubectl shows only with -o wide (priority 1).</summary>
    public TableBuilder Wide(string name, string description, Func<PrintedObject, JsonNode?> cell, string type = "string")
    {
        _columns.Add(new TableColumn(name, type, string.Empty, description, 1));
        _cells.Add(cell);
        return this;
    }

    public ResourceTable Build()
    {
        var cells = _cells.ToArray();
        return new ResourceTable(_columns.ToArray(), o =>
        {
            var row = new JsonArray();
            foreach (var cell in cells)
            {
                row.Add(cell(o));
            }

            return row;
        });
    }
}
