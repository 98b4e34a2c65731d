namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// Lending between the limited priority levels: a level out of its own seats may run a request on a seat another
/// level is not using, out of the part of that level's seats its lendablePercent offers and within its own
/// borrowingLimitPercent. Upstream reaches the same end by recomputing every level's concurrency limit every few
/// seconds from recent demand; here a seat is lent per request, so a burst on one level uses an idle server at once
/// and the lender's own requests never wait behind seats it is not using. A lender that becomes busy gets its seats
/// back as the borrowed requests finish: nothing running is taken away.
/// </summary>
internal sealed class SeatLending
{
    private PriorityLevel[] _levels = [];

    /// <summary>The levels taking part, replaced whenever the configuration is compiled again.</summary>
    public void SetLevels(IEnumerable<PriorityLevel> levels) => Volatile.Write(ref _levels, [.. levels.Where(l => !l.Spec.Exempt)]);

    /// <summary>Whether <paramref name="seats"/> seats are free to lend now: the idle lendable seats of every level beyond those already lent out.</summary>
    public bool HasSpareSeats(int seats)
    {
        var idle = 0;
        var lent = 0;
        foreach (var level in Volatile.Read(ref _levels))
        {
            idle += level.IdleLendableSeats;
            lent += level.BorrowedSeats;
        }

        return idle - lent >= Math.Max(1, seats);
    }

    /// <summary>A seat came free at <paramref name="from"/> (its own, or one it had borrowed): other levels' waiting requests may take it.</summary>
    public void SeatFreed(PriorityLevel from)
    {
        foreach (var level in Volatile.Read(ref _levels))
        {
            if (!ReferenceEquals(level, from) && level.HasWaiting)
            {
                level.DispatchWaiting();
            }
        }
    }
}
