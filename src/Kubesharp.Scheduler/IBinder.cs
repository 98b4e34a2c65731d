namespace Kubesharp.Scheduler;

/// <summary>Commits a placement (Nomad's plan applier): the only write of a successful attempt.</summary>
public interface IBinder
{
    Task BindAsync(string @namespace, string name, string uid, string nodeName, CancellationToken cancellationToken);
}
