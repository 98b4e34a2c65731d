using System.Text.Json.Nodes;

namespace Kubesharp.Addons;

/// <summary>
/// What each manifest file applied (DATA/server/addons.json): its checksum and the objects it created, so the objects
/// of a removed file, or those dropped from a changed one, can be deleted after a restart too. Written whole through a
/// temporary file, so a crash leaves the old record or the new one.
/// </summary>
internal sealed class AddonRecords(string path)
{
    private readonly Dictionary<string, AddonRecord> records = Load(path);

    public IReadOnlyCollection<string> Files => records.Keys;

    public AddonRecord? Get(string file) => records.GetValueOrDefault(file);

    public void Set(string file, AddonRecord record)
    {
        records[file] = record;
        Save();
    }

    public void Remove(string file)
    {
        if (records.Remove(file))
        {
            Save();
        }
    }

    private void Save()
    {
        var files = new JsonObject();
        foreach (var (file, record) in records.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var objects = new JsonArray();
            foreach (var o in record.Objects)
            {
                objects.Add((JsonNode)new JsonObject { ["apiVersion"] = o.ApiVersion, ["kind"] = o.Kind, ["namespace"] = o.Namespace, ["name"] = o.Name });
            }

            files[file] = new JsonObject { ["checksum"] = record.Checksum, ["objects"] = objects };
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, new JsonObject { ["files"] = files }.ToJsonString());
        File.Move(temporary, path, overwrite: true);
    }

    private static Dictionary<string, AddonRecord> Load(string path)
    {
        var records = new Dictionary<string, AddonRecord>(StringComparer.Ordinal);
        JsonObject? files;
        try
        {
            files = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?["files"] as JsonObject : null;
        }
        catch (System.Text.Json.JsonException)
        {
            // A damaged record forgets what to prune; the files present are applied again all the same.
            files = null;
        }

        if (files is null)
        {
            return records;
        }

        foreach (var (file, node) in files)
        {
            var objects = new List<AddonObject>();
            foreach (var o in node?["objects"] as JsonArray ?? [])
            {
                if ((string?)o?["apiVersion"] is { } apiVersion && (string?)o["kind"] is { } kind && (string?)o["name"] is { } name)
                {
                    objects.Add(new AddonObject(apiVersion, kind, (string?)o["namespace"], name));
                }
            }

            records[file] = new AddonRecord((string?)node?["checksum"], objects);
        }

        return records;
    }
}
