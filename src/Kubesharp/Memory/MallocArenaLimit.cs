using System.Runtime.InteropServices;

namespace Kubesharp.Memory;

/// <summary>
/// Caps glibc's malloc arenas for the native memory of the process (OpenSSL, SQLite, the runtime's own). By default
/// glibc gives threads up to eight arenas per core, each keeping its freed memory; an idle `server --disable-agent`
/// held about 20 MB more resident that way than with one arena, and 13 MB more than with two. Two keep most of that
/// saving while threads that allocate at once (TLS handshakes beside the SQLite writer) rarely wait on one lock.
/// A MALLOC_ARENA_MAX in the environment is the operator's choice and is left alone.
/// </summary>
internal static partial class MallocArenaLimit
{
    public const int Arenas = 2;

    /// <summary>glibc's mallopt parameter for the arena limit.</summary>
    private const int ArenaMaxParameter = -8;

    /// <summary>Applies the limit; the number applied, or null when left to the environment or not on glibc.</summary>
    public static int? Apply(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!OperatingSystem.IsLinux() || environment("MALLOC_ARENA_MAX") is not null)
        {
            return null;
        }

        try
        {
            return SetOption(ArenaMaxParameter, Arenas) == 1 ? Arenas : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no arenas to cap).
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int SetOption(int parameter, int value);
}
