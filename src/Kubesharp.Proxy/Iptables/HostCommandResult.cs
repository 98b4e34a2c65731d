namespace Kubesharp.Proxy.Iptables;

/// <summary>The outcome of a command: exit code and captured output.</summary>
public sealed record HostCommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}
