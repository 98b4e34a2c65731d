using System.Collections.Concurrent;
using System.Diagnostics;
using Kubesharp.E2ETests.Support;

namespace Kubesharp.E2ETests;

/// <summary>
/// The real <c>kubesharp agent</c> process runs the server's memory policy: once its node is Ready it gives the garbage
/// of start-up back, and from then on bounds its young generation. Simulated nodes keep containerd out of the test; the
/// agent's own process, flags and start are the real ones.
/// </summary>
public sealed class AgentProcessMemoryTests
{
    [Fact]
    public async Task Agent_OnceItsNodeIsReady_GivesStartUpMemoryBack()
    {
        var root = Path.Combine(Path.GetTempPath(), "kubesharp-agent-memory-" + Guid.NewGuid().ToString("N"));
        var serverDir = Path.Combine(root, "server");
        var server = await KubectlServer.StartAsync(serverDir, ["--disable-agent"]);
        Process? agent = null;
        var lines = new ConcurrentQueue<string>();
        try
        {
            var url = KubectlServer.UrlOf(serverDir);
            var token = (await File.ReadAllTextAsync(Path.Combine(serverDir, "server", "token"))).Trim();
            var trimmed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            agent = Process.Start(KubesharpExecutable.StartInfo(
                "agent", "--server", url, "--token", token, "--simulated-nodes", "1", "--node-name", "memory", "--data-dir", Path.Combine(root, "agent"), "-v", "4"))!;
            void Read(object? sender, DataReceivedEventArgs e)
            {
                if (e.Data is null)
                {
                    return;
                }

                lines.Enqueue(e.Data);
                if (e.Data.Contains("heap trimmed from", StringComparison.Ordinal))
                {
                    trimmed.TrySetResult(e.Data);
                }
            }

            agent.OutputDataReceived += Read;
            agent.ErrorDataReceived += Read;
            agent.EnableRaisingEvents = true;
            agent.Exited += (_, _) => trimmed.TrySetException(new InvalidOperationException("the agent exited"));
            agent.BeginOutputReadLine();
            agent.BeginErrorReadLine();

            // Ready first, then the trim: the collection waits for the process to go quiet (at most two seconds).
            var line = await trimmed.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var ready = lines.ToList().FindIndex(l => l.Contains("simulated nodes ready", StringComparison.Ordinal));
            Assert.True(ready >= 0, "the trim came before the nodes were ready:\n" + string.Join('\n', lines));
            Assert.Matches(@"heap trimmed from \d+ MB to \d+ MB committed", line);

            // The policy ends with the process: SIGTERM still stops the agent, cleanly.
            using (var term = Process.Start("kill", ["-TERM", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            await agent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, agent.ExitCode);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}; the agent said:\n{string.Join('\n', lines)}");
        }
        finally
        {
            if (agent is not null)
            {
                if (!agent.HasExited)
                {
                    agent.Kill(entireProcessTree: true);
                    await agent.WaitForExitAsync();
                }

                agent.Dispose();
            }

            await KubectlServer.StopAsync(server);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
