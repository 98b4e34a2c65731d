using System.Text.Json;
using Google.Protobuf;
using System.Text.Json.Nodes;
using Kubesharp.Kubelet.Devices.V1Beta1;

namespace Kubesharp.Kubelet.Devices;

/// <summary>
/// The allocations and registered devices written to <c>kubelet_internal_checkpoint</c> in the device plugin
/// directory (upstream's name), so a restarted agent knows which containers hold which devices and what their
/// Allocate answers were, before any plugin registers again.
/// </summary>
internal static class DeviceCheckpoint
{
    public const string FileName = "kubelet_internal_checkpoint";

    public static void Write(string path, IEnumerable<DeviceAssignment> assignments, IReadOnlyDictionary<string, IReadOnlyList<string>> registered)
    {
        var entries = new JsonArray();
        foreach (var a in assignments)
        {
            entries.Add((JsonNode?)new JsonObject
            {
                ["PodUID"] = a.PodUid,
                ["ContainerName"] = a.ContainerName,
                ["ResourceName"] = a.ResourceName,
                ["DeviceIDs"] = new JsonArray([.. a.DeviceIds.Select(id => (JsonNode?)JsonValue.Create(id))]),
                ["AllocResp"] = Convert.ToBase64String(a.Response.ToByteArray()),
            });
        }

        var devices = new JsonObject();
        foreach (var (resource, ids) in registered)
        {
            devices[resource] = new JsonArray([.. ids.Select(id => (JsonNode?)JsonValue.Create(id))]);
        }

        var document = new JsonObject { ["Data"] = new JsonObject { ["PodDeviceEntries"] = entries, ["RegisteredDevices"] = devices } };
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, document.ToJsonString());
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The checkpoint's contents; empty when there is none. A damaged file is an error: allocations must not be forgotten silently.</summary>
    public static (List<DeviceAssignment> Assignments, Dictionary<string, IReadOnlyList<string>> Registered) Read(string path)
    {
        var assignments = new List<DeviceAssignment>();
        var registered = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return (assignments, registered);
        }

        try
        {
            var data = JsonNode.Parse(File.ReadAllText(path))?["Data"] ?? throw new InvalidDataException("no Data");
            foreach (var entry in data["PodDeviceEntries"]?.AsArray() ?? [])
            {
                assignments.Add(new DeviceAssignment(
                    (string?)entry?["PodUID"] ?? "",
                    (string?)entry?["ContainerName"] ?? "",
                    (string?)entry?["ResourceName"] ?? "",
                    [.. (entry?["DeviceIDs"]?.AsArray() ?? []).Select(id => (string?)id ?? "")],
                    ContainerAllocateResponse.Parser.ParseFrom(Convert.FromBase64String((string?)entry?["AllocResp"] ?? ""))));
            }

            foreach (var (resource, ids) in data["RegisteredDevices"]?.AsObject() ?? [])
            {
                registered[resource] = [.. (ids?.AsArray() ?? []).Select(id => (string?)id ?? "")];
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new InvalidDataException($"device checkpoint {path} is damaged: {e.Message}", e);
        }

        return (assignments, registered);
    }
}
