using System.Globalization;
using System.Runtime.InteropServices;

namespace Kubesharp.Kubelet.Nodes;

/// <summary>What the machine offers and is: CPUs, memory, disk, addresses and identity, read from the kernel.</summary>
internal sealed record MachineInfo(
    int Cpus,
    long MemoryBytes,
    long EphemeralStorageBytes,
    string KernelVersion,
    string OsImage,
    string MachineId,
    string BootId,
    string Architecture)
{
    public static MachineInfo Read(string dataDir)
    {
        long storage = 0;
        try
        {
            Directory.CreateDirectory(dataDir);
            storage = new DriveInfo(dataDir).TotalSize;
        }
        catch (IOException)
        {
        }

        return new MachineInfo(
            Environment.ProcessorCount,
            MemTotal(),
            storage,
            ReadTrimmed("/proc/sys/kernel/osrelease") ?? "",
            ReadOsImage(),
            ReadTrimmed("/etc/machine-id") ?? "",
            ReadTrimmed("/proc/sys/kernel/random/boot_id") ?? "",
            RuntimeInformation.OSArchitecture switch
            {
                System.Runtime.InteropServices.Architecture.X64 => "amd64",
                System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
                System.Runtime.InteropServices.Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            });
    }

    /// <summary>The first up, non-loopback IPv4 address; loopback when the machine has none.</summary>
    public static string DefaultNodeIp() => DefaultNodeAddress.Find().ToString();

    private static long MemTotal()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private static string ReadOsImage()
    {
        if (File.Exists("/etc/os-release"))
        {
            foreach (var line in File.ReadLines("/etc/os-release"))
            {
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                {
                    return line["PRETTY_NAME=".Length..].Trim('"');
                }
            }
        }

        return "Linux";
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
