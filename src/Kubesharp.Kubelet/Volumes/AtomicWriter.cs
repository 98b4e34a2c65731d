using System.Globalization;
using System.Runtime.InteropServices;

namespace Kubesharp.Kubelet.Volumes;

/// <summary>
/// Writes a set of files into a volume directory so that readers never see a mix of old and new content:
/// the files go into a fresh timestamped directory, the "..data" symlink is swapped to it with one rename,
/// and each visible name is a symlink through "..data". The previous directory is removed afterwards.
/// </summary>
internal static partial class AtomicWriter
{
    public const string DataLink = "..data";

    /// <summary>Writes <paramref name="files"/> (relative path → content, mode); returns false when nothing changed.</summary>
    public static bool Write(string directory, IReadOnlyDictionary<string, (byte[] Content, int Mode)> files, TimeProvider time)
    {
        Directory.CreateDirectory(directory);
        foreach (var path in files.Keys)
        {
            if (!IsSafeRelativePath(path))
            {
                throw new VolumeSetupException($"invalid file path \"{path}\" in volume");
            }
        }

        var dataLink = Path.Combine(directory, DataLink);
        var oldTarget = Directory.Exists(dataLink) ? new FileInfo(dataLink).LinkTarget : null;
        if (oldTarget is not null && SameContent(Path.Combine(directory, oldTarget), files))
        {
            return false;
        }

        var stamp = ".." + time.GetUtcNow().ToString("yyyy_MM_dd_HH_mm_ss.fffffff", CultureInfo.InvariantCulture);
        var target = Path.Combine(directory, stamp);
        Directory.CreateDirectory(target);
        foreach (var (path, file) in files)
        {
            var full = Path.Combine(target, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, file.Content);
            FileModes.Set(full, file.Mode);
        }

        // rename(2) over the old link is the atomic step.
        var temp = Path.Combine(directory, "..data_tmp");
        _ = Unlink(temp);
        File.CreateSymbolicLink(temp, stamp);
        if (Rename(temp, dataLink) != 0)
        {
            throw new VolumeSetupException($"swapping {dataLink} failed (errno {Marshal.GetLastPInvokeError()})");
        }

        var visible = files.Keys.Select(k => k.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in visible)
        {
            var link = Path.Combine(directory, name);
            if (new FileInfo(link).LinkTarget is null && !File.Exists(link) && !Directory.Exists(link))
            {
                File.CreateSymbolicLink(link, Path.Combine(DataLink, name));
            }
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith("..", StringComparison.Ordinal))
            {
                if (name != DataLink && name != stamp && Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null)
                {
                    Directory.Delete(entry, recursive: true);
                }
            }
            else if (!visible.Contains(name) && new FileInfo(entry).LinkTarget is not null)
            {
                _ = Unlink(entry);
            }
        }

        return true;
    }

    private static bool IsSafeRelativePath(string path) =>
        path.Length > 0 && !Path.IsPathRooted(path) && !path.Split('/').Any(segment => segment is ".." or "" || segment.StartsWith("..", StringComparison.Ordinal));

    private static bool SameContent(string oldDirectory, IReadOnlyDictionary<string, (byte[] Content, int Mode)> files)
    {
        if (!Directory.Exists(oldDirectory))
        {
            return false;
        }

        var existing = Directory.EnumerateFiles(oldDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(oldDirectory, f)).ToHashSet(StringComparer.Ordinal);
        if (!existing.SetEquals(files.Keys))
        {
            return false;
        }

        foreach (var (path, file) in files)
        {
            var full = Path.Combine(oldDirectory, path);
            if (!File.ReadAllBytes(full).AsSpan().SequenceEqual(file.Content) || FileModes.Get(full) != file.Mode)
            {
                return false;
            }
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Rename(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unlink(string path);
}
