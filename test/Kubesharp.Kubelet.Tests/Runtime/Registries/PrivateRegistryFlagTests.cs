using System.Diagnostics;
using Kubesharp.E2ETests.Support;

namespace Kubesharp.Kubelet.Tests.Runtime.Registries;

/// <summary><c>--private-registry</c>: a malformed registries.yaml stops the command with the field at fault, before anything starts.</summary>
public sealed class PrivateRegistryFlagTests
{
    [Theory]
    [InlineData("server")]
    [InlineData("agent")]
    public async Task Command_MalformedRegistriesFile_ExitsWithTheFieldAtFault(string verb)
    {
        var dir = Directory.CreateTempSubdirectory("ks-private-registry-");
        try
        {
            var file = Path.Combine(dir.FullName, "registries.yaml");
            await File.WriteAllTextAsync(file, "mirrors:\n  docker.io:\n    endpoint: \"https://not-a-list\"\n");
            string[] arguments = verb == "server"
                ? ["server", "--private-registry", file, "--data-dir", Path.Combine(dir.FullName, "data"), "--https-port", "0"]
                // Nothing listens at the server's address: the file is checked before the agent reaches out.
                : ["agent", "--private-registry", file, "--data-dir", Path.Combine(dir.FullName, "data"), "--server", "https://127.0.0.1:1", "--token", "K10" + new string('0', 64) + "::node:secret"];
            using var process = Process.Start(KubesharpExecutable.StartInfo(arguments))!;
            var error = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            Assert.Contains("--private-registry", await error, StringComparison.Ordinal);
            Assert.Contains("mirrors.docker.io.endpoint: a list is expected", await error, StringComparison.Ordinal);
            Assert.Equal(2, process.ExitCode);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
