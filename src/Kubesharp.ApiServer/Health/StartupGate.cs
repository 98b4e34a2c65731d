using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Health;

/// <summary>
/// Keeps resource requests out until the watch cache holds the whole store and the bootstrap objects exist:
/// before that a list would be empty and a get would miss, so clients get upstream's 429 "storage is
/// (re)initializing" with Retry-After and try again.
/// </summary>
internal sealed class StartupGate(Func<Task> startup)
{
    public void ThrowIfStarting()
    {
        var task = startup();
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        var reason = task.IsFaulted ? $"storage failed to initialize: {task.Exception!.GetBaseException().Message}" : "storage is (re)initializing";
        throw new StatusError(429, "TooManyRequests", reason, retryAfterSeconds: 1);
    }
}
