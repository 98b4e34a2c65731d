using System.Runtime.InteropServices;

namespace Kubesharp.Kubelet.Volumes;

/// <summary>
/// A pod's <c>securityContext.fsGroup</c> applied to a volume as upstream does: every file and directory is given
/// the group, read and write for the group (read only for a read-only mount), execute and set-group-ID on
/// directories so new files inherit the group. <c>fsGroupChangePolicy: OnRootMismatch</c> skips the walk when the
/// volume's root already has the group and those bits.
/// </summary>
internal static partial class VolumeOwnership
{
    public const string OnRootMismatch = "OnRootMismatch";

    private const int ReadWriteMask = 0x1B0; // 0660
    private const int ReadOnlyMask = 0x120;  // 0440
    private const int ExecuteMask = 0x48;    // 0110
    private const int SetGroupId = 0x400;    // 02000

    /// <summary>Applies the group; returns whether anything was walked (false when the policy let it skip).</summary>
    public static bool Apply(string root, long fsGroup, bool readOnly, string? changePolicy)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        var mask = readOnly ? ReadOnlyMask : ReadWriteMask;
        if (changePolicy == OnRootMismatch && Stat(root) is { } rootStat && rootStat.Gid == fsGroup
            && (rootStat.Mode & (mask | ExecuteMask | SetGroupId)) == (mask | ExecuteMask | SetGroupId))
        {
            return false;
        }

        Change(root, fsGroup, mask, isDirectory: true);
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            foreach (var entry in new DirectoryInfo(pending.Pop()).EnumerateFileSystemInfos())
            {
                if (entry.LinkTarget is not null)
                {
                    // A link keeps its own mode; only its ownership changes, never its target's.
                    _ = LChown(entry.FullName, -1, (int)fsGroup);
                    continue;
                }

                var isDirectory = entry is DirectoryInfo;
                Change(entry.FullName, fsGroup, mask, isDirectory);
                if (isDirectory)
                {
                    pending.Push(entry.FullName);
                }
            }
        }

        return true;
    }

    private static void Change(string path, long fsGroup, int mask, bool isDirectory)
    {
        if (LChown(path, -1, (int)fsGroup) != 0)
        {
            throw new VolumeSetupException($"setting group {fsGroup} on \"{path}\" failed (errno {Marshal.GetLastPInvokeError()})");
        }

        FileModes.Set(path, FileModes.Get(path) | mask | (isDirectory ? ExecuteMask | SetGroupId : 0));
    }

    /// <summary>Group and mode of a path through statx, whose layout is the same on every architecture.</summary>
    internal static (long Gid, int Mode)? Stat(string path)
    {
        var buffer = new byte[256];
        const int AtFdCwd = -100;
        const uint StatxBasicStats = 0x7FF;
        if (StatX(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            return null;
        }

        return (BitConverter.ToUInt32(buffer, 24), BitConverter.ToUInt16(buffer, 28) & 0xFFF);
    }

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);
}
