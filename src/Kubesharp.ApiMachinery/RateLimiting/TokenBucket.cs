namespace Kubesharp.ApiMachinery.RateLimiting;

/// <summary>
/// A token bucket that starts full: <c>burst</c> tokens, refilled continuously at <c>qps</c> per second (client-go's
/// token bucket). <see cref="TryTake"/> takes a token only when one is there; <see cref="Reserve"/> always takes one
/// and says how long to wait for it.
/// </summary>
public sealed class TokenBucket
{
    private readonly Lock _gate = new();
    private readonly double _qps;
    private readonly int _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public TokenBucket(double qps, int burst, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(qps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _qps = qps;
        _burst = burst;
        _time = timeProvider ?? TimeProvider.System;
        _tokens = burst;
        _last = _time.GetTimestamp();
    }

    public bool TryTake()
    {
        lock (_gate)
        {
            Refill();
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            return true;
        }
    }

    public TimeSpan Reserve()
    {
        lock (_gate)
        {
            Refill();
            _tokens--;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _qps);
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _qps));
        _last = now;
    }
}
