namespace Kubesharp.Proxy.Iptables;

/// <summary>
/// Applies rules with one atomic <c>iptables-restore --noflush</c> per sync, keeps the jumps from the
/// built-in chains into ours, and removes everything of ours on cleanup.
/// </summary>
public sealed class IptablesRunner(HostCommand command, IptablesChains? chains = null)
{
    private readonly IptablesChains names = chains ?? IptablesChains.Default;

    private (string Table, string Chain, string[] Match, string Target)[] Jumps =>
    [
        ("nat", "PREROUTING", [], names.Services),
        ("nat", "OUTPUT", [], names.Services),
        ("nat", "POSTROUTING", [], names.Postrouting),
        ("filter", "FORWARD", [], names.Forward),
        ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW"], names.Reject),
        ("filter", "OUTPUT", ["-m", "conntrack", "--ctstate", "NEW"], names.Reject),
        ("filter", "INPUT", ["-m", "conntrack", "--ctstate", "NEW"], names.Reject),
    ];

    public async Task RestoreAsync(string input, CancellationToken cancellationToken)
    {
        var result = await command.RunAsync(["iptables-restore", "--noflush", "-w", "5"], input, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new IptablesException($"iptables-restore failed ({result.ExitCode}): {result.StandardError.Trim()}");
        }
    }

    /// <summary>Inserts the jumps into our chains where missing (after the chains exist).</summary>
    public async Task EnsureJumpsAsync(CancellationToken cancellationToken)
    {
        foreach (var (table, chain, match, target) in Jumps)
        {
            string[] rule = [.. match, "-m", "comment", "--comment", "kubesharp", "-j", target];
            var check = await command.RunAsync(["iptables", "-w", "5", "-t", table, "-C", chain, .. rule], null, cancellationToken).ConfigureAwait(false);
            if (!check.Succeeded)
            {
                var insert = await command.RunAsync(["iptables", "-w", "5", "-t", table, "-I", chain, "1", .. rule], null, cancellationToken).ConfigureAwait(false);
                if (!insert.Succeeded)
                {
                    throw new IptablesException($"iptables -I {chain} failed: {insert.StandardError.Trim()}");
                }
            }
        }
    }

    /// <summary>Removes our jumps and chains from both tables.</summary>
    public async Task CleanupAsync(CancellationToken cancellationToken)
    {
        foreach (var (table, chain, match, target) in Jumps)
        {
            string[] rule = [.. match, "-m", "comment", "--comment", "kubesharp", "-j", target];
            while ((await command.RunAsync(["iptables", "-w", "5", "-t", table, "-D", chain, .. rule], null, cancellationToken).ConfigureAwait(false)).Succeeded)
            {
            }
        }

        await RemoveChainsAsync(names.Owns, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes, in one restore per table, every chain <paramref name="owns"/> claims and every rule elsewhere that
    /// jumps into one (so whatever put such a jump there, a stop or a later cleanup leaves nothing behind).
    /// </summary>
    public async Task RemoveChainsAsync(Func<string, bool> owns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owns);
        var input = new System.Text.StringBuilder();
        foreach (var table in new[] { "filter", "nat" })
        {
            var saved = await command.RunAsync(["iptables-save", "-t", table], null, cancellationToken).ConfigureAwait(false);
            var lines = saved.StandardOutput.Split('\n');
            var ours = lines
                .Where(l => l.StartsWith(':'))
                .Select(l => l[1..].Split(' ')[0])
                .Where(owns)
                .ToList();
            if (ours.Count == 0)
            {
                continue;
            }

            var jumps = lines.Where(l => l.StartsWith("-A ", StringComparison.Ordinal) && !owns(l[3..].Split(' ')[0]) && JumpTarget(l) is { } target && owns(target)).ToList();
            input.Append('*').Append(table).Append('\n');
            foreach (var chain in ours)
            {
                input.Append(':').Append(chain).Append(" - [0:0]\n");
            }

            foreach (var jump in jumps)
            {
                input.Append("-D ").Append(jump.AsSpan(3)).Append('\n');
            }

            foreach (var chain in ours)
            {
                input.Append("-X ").Append(chain).Append('\n');
            }

            input.Append("COMMIT\n");
        }

        if (input.Length > 0)
        {
            await RestoreAsync(input.ToString(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes <c>-j TARGET</c> (with a <c>kubesharp</c> comment) the first rule of a built-in chain, moving it there
    /// when other rules came before it.
    /// </summary>
    public async Task EnsureFirstJumpAsync(string table, string chain, string target, CancellationToken cancellationToken)
    {
        string[] rule = ["-m", "comment", "--comment", "kubesharp", "-j", target];
        var listed = await command.RunAsync(["iptables", "-w", "5", "-t", table, "-S", chain], null, cancellationToken).ConfigureAwait(false);
        var first = listed.StandardOutput.Split('\n').FirstOrDefault(l => l.StartsWith("-A ", StringComparison.Ordinal));
        if (first is not null && JumpTarget(first) == target)
        {
            return;
        }

        while ((await command.RunAsync(["iptables", "-w", "5", "-t", table, "-D", chain, .. rule], null, cancellationToken).ConfigureAwait(false)).Succeeded)
        {
        }

        var insert = await command.RunAsync(["iptables", "-w", "5", "-t", table, "-I", chain, "1", .. rule], null, cancellationToken).ConfigureAwait(false);
        if (!insert.Succeeded)
        {
            throw new IptablesException($"iptables -I {chain} failed: {insert.StandardError.Trim()}");
        }
    }

    private static string? JumpTarget(string rule)
    {
        var at = rule.LastIndexOf(" -j ", StringComparison.Ordinal);
        return at < 0 ? null : rule[(at + 4)..].Split(' ')[0];
    }

    /// <summary>Drops UDP conntrack entries that still send a service's traffic to a removed endpoint.</summary>
    public async Task ClearUdpConntrackAsync(string serviceIp, string endpointIp, CancellationToken cancellationToken)
    {
        try
        {
            // Exit code 1 means no entries matched, which is fine.
            await command.RunAsync(["conntrack", "-D", "-p", "udp", "--orig-dst", serviceIp, "--dst-nat", endpointIp], null, cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // conntrack-tools not installed: stale UDP flows then expire on their own timeout.
        }
    }
}
