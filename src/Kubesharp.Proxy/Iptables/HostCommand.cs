using System.Diagnostics;

namespace Kubesharp.Proxy.Iptables;

/// <summary>Runs a node command (iptables, conntrack), optionally behind a prefix such as <c>ip netns exec NAME</c>.</summary>
public sealed class HostCommand(IReadOnlyList<string> prefix)
{
    public async Task<HostCommandResult> RunAsync(IReadOnlyList<string> arguments, string? input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var all = prefix.Concat(arguments).ToList();
        var start = new ProcessStartInfo(all[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in all.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {all[0]}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return new HostCommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
