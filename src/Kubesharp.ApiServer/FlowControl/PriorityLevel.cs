namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// The seats of one priority level and its queues. A request takes a seat at once while nothing waits and a seat
/// is free; otherwise it joins the shortest queue of its flow's hand (shuffle sharding), or is rejected when that
/// queue is full or the level rejects instead of queuing. A freed seat goes to the head of the queue with the
/// earliest virtual start, so flows sharing a level get turns alike (fair queuing over equal-cost requests). Out of
/// its own seats, a level borrows idle ones other levels lend (<see cref="SeatLending"/>).
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
    public int IdleLendableSeats => Math.Min(Volatile.Read(ref _lendable), Math.Max(0, Volatile.Read(ref _limit) - Volatile.Read(ref _executing)));

    /// <summary>Requests running beyond this level's own seats, on seats lent by others.</summary>
    public int BorrowedSeats => Math.Max(0, Volatile.Read(ref _executing) - Volatile.Read(ref _limit));

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

    /// <summary>A seat for the request, or null when it is rejected (queue full, Reject level, or waited too long).</summary>
    public async Task<Seat?> AdmitAsync(ulong flowHash, TimeSpan waitLimit, CancellationToken cancellationToken)
    {
        WaitingRequest waiter;
        lock (_gate)
        {
            if (_spec.Exempt)
            {
                return DispatchTo(null);
            }

            var queue = _spec.Queuing ? ChooseQueue(flowHash) : null;
            if (_waiting == 0 && HasSeatLocked())
            {
                return DispatchTo(queue);
            }

            if (queue is null || queue.Waiting.Count >= _spec.QueueLengthLimit)
            {
                _rejected++;
                return null;
            }

            waiter = new WaitingRequest(flowHash);
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

    private void Release(RequestQueue? queue)
    {
        bool waiting;
        lock (_gate)
        {
            _executing--;
            if (queue is not null)
            {
                queue.Executing--;
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

    /// <summary>An own seat is free, or one can be borrowed within this level's borrowing limit.</summary>
    private bool HasSeatLocked() =>
        _executing < _limit || (_lending is not null && _executing - _limit < _borrowingLimit && _lending.HasSpareSeat());

    private RequestQueue ChooseQueue(ulong flowHash)
    {
        RequestQueue? best = null;
        foreach (var index in _dealer.Deal(flowHash))
        {
            var candidate = _queues[index];
            if (best is null || candidate.Waiting.Count + candidate.Executing < best.Waiting.Count + best.Executing)
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
        _waiting++;
    }

    private Seat DispatchTo(RequestQueue? queue)
    {
        _executing++;
        _dispatched++;
        if (queue is not null)
        {
            queue.Executing++;
        }

        return new Seat(this, queue);
    }

    private void DispatchLocked()
    {
        while (_waiting > 0 && HasSeatLocked())
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
            next.Waiting.RemoveFirst();
            _waiting--;
            _virtualClock = next.VirtualStart;
            next.VirtualStart++;
            request.Admitted.TrySetResult(DispatchTo(next));
        }
    }

    /// <summary>An executing request's seat; disposing gives it back (once).</summary>
    internal sealed class Seat(PriorityLevel level, RequestQueue? queue) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                level.Release(queue);
            }
        }
    }

    internal sealed class RequestQueue
    {
        public LinkedList<WaitingRequest> Waiting { get; } = new();

        public int Executing { get; set; }

        public long VirtualStart { get; set; }
    }

    internal sealed class WaitingRequest(ulong flowHash)
    {
        public ulong FlowHash { get; } = flowHash;

        public TaskCompletionSource<Seat> Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<WaitingRequest>? Node { get; set; }
    }
}
