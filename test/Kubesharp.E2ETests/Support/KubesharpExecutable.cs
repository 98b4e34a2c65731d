using System.Diagnostics;

namespace Kubesharp.E2ETests.Support;

/// <summary>
/// The kubesharp executable the tests start: the file <c>KUBESHARP_EXECUTABLE</c> names (test.sh publishes the native
/// binary and names it), else the build beside the tests, run on .NET (development).
/// </summary>
public static class KubesharpExecutable
{
    /// <summary>The environment variable naming the executable to run.</summary>
    public const string Variable = "KUBESHARP_EXECUTABLE";

    private static readonly string? Named = Resolve();

    /// <summary>A file that runs kubesharp by itself (to link as a kubectl plugin, or to run in another namespace):
    /// the named executable, else the apphost of the build beside the tests.</summary>
    public static string File => Named ?? Path.Combine(AppContext.BaseDirectory, "kubesharp");

    /// <summary>The command line that runs kubesharp with <paramref name="args"/>: the named executable, else
    /// <c>dotnet kubesharp.dll</c>.</summary>
    public static string[] Command(params IEnumerable<string> args) =>
        Named is not null ? [Named, .. args] : ["dotnet", Path.Combine(AppContext.BaseDirectory, "kubesharp.dll"), .. args];

    /// <summary>A start of kubesharp with <paramref name="args"/>, its output and error redirected.</summary>
    public static ProcessStartInfo StartInfo(params IEnumerable<string> args)
    {
        var command = Command(args);
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    // A name that does not lead to an executable is a broken setup, not a reason to test the other build.
    private static string? Resolve()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } named)
        {
            return null;
        }

        var full = Path.GetFullPath(named);
        return System.IO.File.Exists(full)
            ? full
            : throw new FileNotFoundException($"{Variable} names {named}, which does not exist", full);
    }
}
