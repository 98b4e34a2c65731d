namespace Kubesharp.Scheduler.Framework;

/// <summary>A host port a pod claims: IP (0.0.0.0 for all), protocol, port.</summary>
public readonly record struct HostPort(string Ip, string Protocol, int Port)
{
    public const string AnyIp = "0.0.0.0";

    public bool ConflictsWith(HostPort other) =>
        Port == other.Port && Protocol == other.Protocol && (Ip == other.Ip || Ip == AnyIp || other.Ip == AnyIp);
}
