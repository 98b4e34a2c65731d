namespace Kubesharp.ControllerManager;

/// <summary>A controller: registers its informer handlers, then runs its workers until cancelled.</summary>
internal interface IController : IDisposable
{
    string Name { get; }

    /// <summary>Requests informers and adds event handlers; called before the informers start.</summary>
    void Register();

    /// <summary>Runs the workers; the informers have synced when this is called.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
