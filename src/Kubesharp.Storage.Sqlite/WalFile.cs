using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kubesharp.Storage.Sqlite;

/// <summary>
/// A handle on the database's write-ahead log, used only to make committed frames durable. SQLite keeps
/// its locks in the shared-memory file, never on the log, so this second descriptor cannot disturb them.
/// </summary>
internal sealed partial class WalFile : IDisposable
{
    private readonly SafeFileHandle _handle;

    public WalFile(string databasePath)
    {
        _handle = File.OpenHandle(databasePath + "-wal", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
    }

    /// <summary>Forces every frame written so far to stable storage.</summary>
    /// <exception cref="IOException">The file system could not persist the log.</exception>
    public void Flush()
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(_handle);
            return;
        }

        // fdatasync, not fsync: the log is mostly rewritten in place, and its modification time need not
        // reach the disk for the frames to be readable, which saves a file-system journal commit per flush.
        if (FDataSync(_handle) != 0)
        {
            throw new IOException($"fdatasync of the write-ahead log failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(SafeFileHandle handle);
}
