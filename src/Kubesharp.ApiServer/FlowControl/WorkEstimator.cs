using Kubesharp.ApiServer.Caching;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// Seats a request holds while it runs, as upstream's work estimator counts them: one for most requests; a LIST
/// reads every object the cache holds for its resource (lists are served from the cache), so it takes one seat per
/// 100 of them, at least one and at most ten. A flood of big LISTs then fills a level's seats with fewer requests
/// and its flows' turns come as seldom as their size says, leaving room for the small requests beside them.
/// </summary>
internal sealed class WorkEstimator(WatchCache cache)
{
    public const int MinSeats = 1;
    public const int MaxSeats = 10;
    public const int ObjectsPerSeat = 100;

    public int SeatsOf(RequestInfo request)
    {
        if (!request.IsResourceRequest || request.Verb != "list" || request.Subresource.Length > 0)
        {
            return MinSeats;
        }

        var groupResource = request.ApiGroup.Length == 0 ? request.Resource : $"{request.Resource}.{request.ApiGroup}";
        // A resource the cache has no count for (unknown, or nothing stored yet) costs the least, as upstream.
        var count = cache.CountOf(groupResource) ?? 0;
        return Math.Clamp((count + ObjectsPerSeat - 1) / ObjectsPerSeat, MinSeats, MaxSeats);
    }
}
