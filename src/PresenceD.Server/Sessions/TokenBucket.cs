namespace PresenceD.Server.Sessions;

/// <summary>publish_rate / publish_burst per connection: a token bucket refilled from the clock on use.</summary>
internal struct TokenBucket
{
    private double _tokens;
    private long _lastMs;
    private bool _started;

    /// <summary>Takes one token; false when the rate is exceeded. A rate of 0 means no limit.</summary>
    public bool TryTake(double ratePerSecond, double burst, long nowMs)
    {
        if (ratePerSecond <= 0) return true;
        if (burst <= 0) burst = ratePerSecond;
        if (!_started)
        {
            _started = true;
            _tokens = burst;
            _lastMs = nowMs;
        }
        _tokens = Math.Min(burst, _tokens + (nowMs - _lastMs) * ratePerSecond / 1000.0);
        _lastMs = nowMs;
        if (_tokens < 1) return false;
        _tokens -= 1;
        return true;
    }
}
