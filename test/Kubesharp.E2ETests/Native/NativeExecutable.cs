using System.Diagnostics;

namespace Kubesharp.E2ETests.Native;

/// <summary>
/// The kubesharp executable compiled ahead of time: the one KUBESHARP_NATIVE names, or else published once into
/// artifacts/native of the repository (later runs reuse that output; MSBuild recompiles only what changed).
/// </summary>
internal static class NativeExecutable
{
    private static readonly SemaphoreSlim Publishing = new(1, 1);

    public static string? Given => Environment.GetEnvironmentVariable("KUBESHARP_NATIVE") is { Length: > 0 } path ? path : null;

    /// <summary>Why the executable cannot be had here (no clang to link it), or null.</summary>
    public static string? Missing() =>
        Given is null && !OnPath("clang") ? "Native AOT needs clang (apt-get install clang zlib1g-dev)" : null;

    public static async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        if (Given is { } given)
        {
            Assert.True(File.Exists(given), $"KUBESHARP_NATIVE={given} does not exist");
            return given;
        }

        var root = RepositoryRoot();
        var output = Path.Combine(root, "artifacts", "native");
        await Publishing.WaitAsync(cancellationToken);
        try
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = root,
            };
            foreach (var argument in new[] { "publish", Path.Combine(root, "src", "Kubesharp", "Kubesharp.csproj"), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output, "--nologo", "-v", "quiet" })
            {
                info.ArgumentList.Add(argument);
            }

            using var publish = Process.Start(info)!;
            var stdout = publish.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = publish.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await publish.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                publish.Kill(entireProcessTree: true);
                throw;
            }

            Assert.True(publish.ExitCode == 0, $"dotnet publish -p:PublishAot=true failed ({publish.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        finally
        {
            Publishing.Release();
        }

        return Path.Combine(output, "kubesharp");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Kubesharp.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Kubesharp.slnx) is not above " + AppContext.BaseDirectory);
    }

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, name)));
}
