namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// The Retry-After a priority level answers with: one second at first, doubled (up to 32) while rejections keep
/// coming at three per second of the current value or more, then lowered a second at a time once they ease.
/// </summary>
internal sealed class DroppedRequests(TimeProvider timeProvider)
{
    private const long MaxRetryAfter = 32;

    private readonly Lock _gate = new();
    private readonly Queue<(long Second, long Count)> _history = new();
    private long _currentSecond;
    private long _currentCount;
    private long _retryAfter = 1;
    private long _lastIncrease;

    public int RetryAfterSeconds
    {
        get
        {
            lock (_gate)
            {
                return (int)_retryAfter;
            }
        }
    }

    public void Record()
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            if (now == _currentSecond)
            {
                _currentCount++;
                return;
            }

            if (_currentCount > 0)
            {
                _history.Enqueue((_currentSecond, _currentCount));
            }

            while (_history.Count > 0 && now - _history.Peek().Second > Math.Min(2 * _retryAfter, MaxRetryAfter))
            {
                _history.Dequeue();
            }

            _currentSecond = now;
            _currentCount = 1;
            var recent = _history.Where(h => now - h.Second <= _retryAfter).Sum(h => h.Count);
            if (now - _lastIncrease >= _retryAfter && recent >= 3 * _retryAfter)
            {
                _retryAfter = Math.Min(_retryAfter * 2, MaxRetryAfter);
                _lastIncrease = now;
            }
            else if (recent < _retryAfter && _retryAfter > 1)
            {
                _retryAfter--;
            }
        }
    }
}
