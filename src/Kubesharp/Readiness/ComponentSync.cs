namespace Kubesharp.Readiness;

/// <summary>
/// The <c>informer-sync</c> readiness check of <c>kubesharp server</c>: the components running beside the API
/// server (controller manager, scheduler, node agent, …) each report when their informers have listed; until all
/// have, the check fails naming those still waiting or failed.
/// </summary>
internal sealed class ComponentSync
{
    private readonly Lock _gate = new();
    private readonly List<(string Component, Task Synced)> _components = [];

    /// <summary>Follows a component whose <paramref name="synced"/> completes once its informers have listed.</summary>
    public void Track(string component, Task synced)
    {
        lock (_gate)
        {
            _components.Add((component, synced));
        }
    }

    /// <summary>Follows a component that reports by calling the returned action.</summary>
    public Action Track(string component)
    {
        var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Track(component, synced.Task);
        return () => synced.TrySetResult();
    }

    /// <summary>Null when every component has synced, else which have not and why.</summary>
    public string? Check()
    {
        List<string> pending;
        lock (_gate)
        {
            pending = [.. _components.Where(c => !c.Synced.IsCompletedSuccessfully).Select(c => c.Synced.IsFaulted
                ? $"{c.Component} failed: {c.Synced.Exception!.GetBaseException().Message}"
                : $"{c.Component} not synced yet")];
        }

        return pending.Count == 0 ? null : string.Join("; ", pending);
    }

    /// <summary>Completes when every component followed so far has synced or failed.</summary>
    public Task SettledAsync(CancellationToken cancellationToken)
    {
        Task[] tasks;
        lock (_gate)
        {
            tasks = [.. _components.Select(c => c.Synced)];
        }

        return Task.WhenAll(tasks).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).WaitAsync(cancellationToken);
    }
}
