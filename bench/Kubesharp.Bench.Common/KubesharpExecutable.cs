using System.Diagnostics;

namespace Kubesharp.Bench.Common;

/// <summary>
/// The kubesharp executable a benchmark starts: the file <c>KUBESHARP_EXECUTABLE</c> names (bench/run publishes the
/// native binary and names it), else the build beside the benchmark (its apphost, or <c>dotnet kubesharp.dll</c>),
/// which runs on the JIT.
/// </summary>
public static class KubesharpExecutable
{
    /// <summary>The environment variable naming the executable to run.</summary>
    public const string Variable = "KUBESHARP_EXECUTABLE";

    private static readonly string? Named = Resolve();

    /// <summary>Whether the executable started is ahead-of-time compiled: a .NET build always has its runtime
    /// configuration beside it, a Native AOT one never.</summary>
    public static bool IsNative => Named is not null && !File.Exists(Path.ChangeExtension(Named, ".runtimeconfig.json"));

    /// <summary>Which build a section measured, for its text: "the native (Native AOT) executable" or "the JIT build".</summary>
    public static string Description => IsNative ? "the native (Native AOT) executable" : "the JIT build";

    /// <summary>A start of kubesharp with <paramref name="args"/>, its output and error redirected.</summary>
    public static ProcessStartInfo StartInfo(params IEnumerable<string> args) =>
        Named is not null ? Start(Named, args) : JitStartInfo(args);

    /// <summary>A start of the JIT build beside the benchmark, whatever the variable names: the other side of a
    /// comparison with the native executable.</summary>
    public static ProcessStartInfo JitStartInfo(params IEnumerable<string> args)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "kubesharp");
        return File.Exists(apphost) ? Start(apphost, args) : Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "kubesharp.dll"), .. args]);
    }

    private static ProcessStartInfo Start(string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in args)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    // A name that does not lead to an executable is a broken setup, not a reason to measure the other build.
    private static string? Resolve()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } named)
        {
            return null;
        }

        var full = Path.GetFullPath(named);
        return File.Exists(full)
            ? full
            : throw new FileNotFoundException($"{Variable} names {named}, which does not exist", full);
    }
}
