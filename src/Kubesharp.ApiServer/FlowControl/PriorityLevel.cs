namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// The seats of one priority level and its queues. A request takes a seat at once while nothing waits and a seat
/// is free; otherwise it joins the shortest queue of its flow's hand (shuffle sharding), or is rejected when that
/// queue is full or the level rejects instead of queuing. A freed seat goes to the head of the queue with the
/// earliest virtual start, so flows sharing a level get turns alike. A request may take several seats (a LIST by the
/// objects it reads, <see cref="WorkEstimator"/>): its queue's virtual start moves on by its seats, so a flow of wide
/// requests gets as many seats as a flow of narrow ones, not as many turns, and a wide request at the head of the
/// next queue waits until enough seats are free rather than being overtaken forever. Out of its own seats, a level
/// borrows idle ones other levels lend (<see cref="SeatLending"/>).
/// </summary>
internal sealed class PriorityLevel
{
    private readonly Lock _gate = new();
    private readonly SeatLending? _lending;
    private PriorityLevelSpec _spec;
    private RequestQueue[] _queues = [];
    private ShuffleShardDealer _dealer = new(1, 1);
    private int _limit;
    private int _lendable;
    private int _borrowingLimit;
    private int _executing;
    private int _executingSeats;
    private int _waiting;
    private long _virtualClock;
    private long _dispatched;
    private long _rejected;
    private long _timedOut;
    private long _cancelled;

    public PriorityLevel(PriorityLevelSpec spec, int limit, TimeProvider timeProvider, SeatLending? lending = null)
    {
        _spec = spec;
        _lending = lending;
        Dropped = new DroppedRequests(timeProvider);
        Configure(spec, limit);
    }

    public string Name => _spec.Name;

    public PriorityLevelSpec Spec => Volatile.Read(ref _spec);

    public DroppedRequests Dropped { get; }

    /// <summary>Seats this level may fill at once (its nominal share of the server's limit).</summary>
    public int Limit
    {
        get
        {
            lock (_gate)
            {
                return _limit;
            }
        }
    }

    /// <summary>Own seats not in use that this level lends (read without the lock: lending is an estimate by nature).</summary>
    public int IdleLendableSeats => Math.Min(Volatile.Read(ref _lendable), Math.Max(0, Volatile.Read(ref _limit) - Volatile.Read(ref _executingSeats)));

    /// <summary>Seats in use beyond this level's own, lent by others.</summary>
    public int BorrowedSeats => Math.Max(0, Volatile.Read(ref _executingSeats) - Volatile.Read(ref _limit));

    /// <summary>Seats the running requests hold.</summary>
    public int ExecutingSeats => Volatile.Read(ref _executingSeats);

    public bool HasWaiting => Volatile.Read(ref _waiting) > 0;

    public void Configure(PriorityLevelSpec spec, int limit)
    {
        lock (_gate)
        {
            Volatile.Write(ref _spec, spec);
            _limit = limit;
            _lendable = spec.Exempt ? 0 : (int)Math.Round(limit * spec.LendablePercent / 100.0);
            _borrowingLimit = spec.Exempt ? 0 : spec.BorrowingLimitPercent is { } percent ? (int)Math.Round(limit * percent / 100.0) : int.MaxValue - limit;
            var waiting = _queues.SelectMany(q => q.Waiting).ToList();
            // A level that stopped queuing keeps one queue for the requests already waiting in it.
            var queueCount = spec.Queuing ? spec.Queues : waiting.Count > 0 ? 1 : 0;
            var handSize = Math.Clamp(spec.HandSize, 1, Math.Max(1, queueCount));
            if (_queues.Length != queueCount || _dealer.HandSize != handSize)
            {
                _queues = [.. Enumerable.Range(0, queueCount).Select(_ => new RequestQueue())];
                _dealer = new ShuffleShardDealer(Math.Max(1, queueCount), handSize);
                foreach (var request in waiting)
                {
                    // Requests already waiting keep waiting, in the queue their flow maps to now.
                    request.Node!.List!.Remove(request.Node);
                    _waiting--;
                    Enqueue(ChooseQueue(request.FlowHash), request);
                }
            }

            DispatchLocked();
        }
    }

    /// <summary>
    /// <paramref name="seats"/> seats for the request (at most the level's own), or null when it is rejected (queue
    /// full, Reject level, or waited too long).
    /// </summary>
    public async Task<Seat?> AdmitAsync(ulong flowHash, int seats, TimeSpan waitLimit, CancellationToken cancellationToken)
    {
        WaitingRequest waiter;
        lock (_gate)
        {
            if (_spec.Exempt)
            {
                return DispatchTo(null, 1);
            }

            var width = Math.Clamp(seats, 1, Math.Max(1, _limit));
            var queue = _spec.Queuing ? ChooseQueue(flowHash) : null;
            if (_waiting == 0 && HasSeatsLocked(width))
            {
                return DispatchTo(queue, width);
            }

            if (queue is null || queue.Waiting.Count >= _spec.QueueLengthLimit)
            {
                _rejected++;
                return null;
            }

            waiter = new WaitingRequest(flowHash, width);
            Enqueue(queue, waiter);
        }

        try
        {
            return await waiter.Admitted.Task.WaitAsync(waitLimit, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_gate)
            {
                if (waiter.Node?.List is { } list)
                {
                    list.Remove(waiter.Node);
                    waiter.Queue!.WaitingSeats -= waiter.Width;
                    _waiting--;
                    if (ex is TimeoutException)
                    {
                        _timedOut++;
                        _rejected++;
                    }
                    else
                    {
                        _cancelled++;
                    }

                    // A wide request that stood first may have kept narrower ones waiting for seats that are free.
                    DispatchLocked();
                }
            }

            if (waiter.Admitted.Task.IsCompletedSuccessfully)
            {
                // Dispatched just as the wait ended: a timed-out request takes the seat, a cancelled one gives it back.
                var seat = waiter.Admitted.Task.Result;
                if (ex is TimeoutException)
                {
                    return seat;
                }

                seat.Dispose();
            }
            else if (ex is TimeoutException)
            {
                return null;
            }

            throw;
        }
    }

    /// <summary>Counts as upstream's dump_priority_levels reports them.</summary>
    public (int ActiveQueues, int Waiting, int Executing, long Dispatched, long Rejected, long TimedOut, long Cancelled) Counts()
    {
        lock (_gate)
        {
            return (_queues.Count(q => q.Waiting.Count > 0 || q.Executing > 0), _waiting, _executing, _dispatched, _rejected, _timedOut, _cancelled);
        }
    }

    /// <summary>Starts waiting requests for as long as seats (own or borrowed) allow.</summary>
    public void DispatchWaiting()
    {
        lock (_gate)
        {
            DispatchLocked();
        }
    }

    private void Release(RequestQueue? queue, int width)
    {
        bool waiting;
        lock (_gate)
        {
            _executing--;
            _executingSeats -= width;
            if (queue is not null)
            {
                queue.Executing -= width;
            }

            DispatchLocked();
            waiting = _waiting > 0;
        }

        // The seat went to nobody here: a level waiting for a loan may have it (outside this lock, so no two level locks nest).
        if (!waiting && !_spec.Exempt)
        {
            _lending?.SeatFreed(this);
        }
    }

    /// <summary>Enough own seats are free, or the rest can be borrowed within this level's borrowing limit.</summary>
    private bool HasSeatsLocked(int width)
    {
        var beyondOwn = _executingSeats + width - _limit;
        return beyondOwn <= 0 ||
            (_lending is not null && beyondOwn <= _borrowingLimit && _lending.HasSpareSeats(beyondOwn - Math.Max(0, _executingSeats - _limit)));
    }

    private RequestQueue ChooseQueue(ulong flowHash)
    {
        RequestQueue? best = null;
        foreach (var index in _dealer.Deal(flowHash))
        {
            var candidate = _queues[index];
            if (best is null || candidate.WaitingSeats + candidate.Executing < best.WaitingSeats + best.Executing)
            {
                best = candidate;
            }
        }

        return best!;
    }

    private void Enqueue(RequestQueue queue, WaitingRequest request)
    {
        if (queue.Waiting.Count == 0)
        {
            queue.VirtualStart = Math.Max(queue.VirtualStart, _virtualClock);
        }

        request.Node = queue.Waiting.AddLast(request);
        request.Queue = queue;
        queue.WaitingSeats += request.Width;
        _waiting++;
    }

    private Seat DispatchTo(RequestQueue? queue, int width)
    {
        _executing++;
        _executingSeats += width;
        _dispatched++;
        if (queue is not null)
        {
            queue.Executing += width;
        }

        return new Seat(this, queue, width);
    }

    private void DispatchLocked()
    {
        while (_waiting > 0)
        {
            RequestQueue? next = null;
            foreach (var queue in _queues)
            {
                if (queue.Waiting.Count > 0 && (next is null || queue.VirtualStart < next.VirtualStart))
                {
                    next = queue;
                }
            }

            if (next is null)
            {
                return;
            }

            var request = next.Waiting.First!.Value;
            // The level's limit may have shrunk since the request came.
            var width = Math.Min(request.Width, Math.Max(1, _limit));
            if (!HasSeatsLocked(width))
            {
                // The request whose turn it is waits for enough seats; none behind it overtakes it.
                return;
            }

            next.Waiting.RemoveFirst();
            next.WaitingSeats -= request.Width;
            _waiting--;
            _virtualClock = next.VirtualStart;
            next.VirtualStart += width;
            request.Admitted.TrySetResult(DispatchTo(next, width));
        }
    }

    /// <summary>An executing request's seats; disposing gives them back (once).</summary>
    internal sealed class Seat(PriorityLevel level, RequestQueue? queue, int width) : IDisposable
    {
        private int _released;

        /// <summary>How many seats the request holds.</summary>
        public int Width => width;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                level.Release(queue, width);
            }
        }
    }

    internal sealed class RequestQueue
    {
        public LinkedList<WaitingRequest> Waiting { get; } = new();

        /// <summary>Seats the waiting requests will take.</summary>
        public int WaitingSeats { get; set; }

        /// <summary>Seats the queue's running requests hold.</summary>
        public int Executing { get; set; }

        public long VirtualStart { get; set; }
    }

    internal sealed class WaitingRequest(ulong flowHash, int width)
    {
        public ulong FlowHash { get; } = flowHash;

        public int Width { get; } = width;

        public TaskCompletionSource<Seat> Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<WaitingRequest>? Node { get; set; }

        public RequestQueue? Queue { get; set; }
    }
}
