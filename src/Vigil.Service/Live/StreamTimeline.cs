namespace Vigil.Service.Live;

/// <summary>
/// Maps a connection's media time onto the stream's own clock, which never goes backwards: media time
/// restarts at 0 on every reconnect (and after a service restart), so each connection gets an offset
/// that puts its first frame at the later of "wall-clock seconds since the stream's epoch" and "the
/// stream time already reached". Timestamp jumps inside a connection (a source restarting its clock)
/// move the offset so that stream time continues from the last frame. Stream time is what events carry
/// in <c>start</c>/<c>end</c>; <c>epoch + stream time</c> is their wall-clock time.
/// </summary>
public sealed class StreamTimeline(double epoch, double position)
{
    /// <summary>A forward jump longer than this between consecutive frames is a discontinuity, not a gap.</summary>
    private const double MaxForwardJump = 10.0;

    /// <summary>Audio and video interleave loosely; only a step back further than this is a discontinuity.</summary>
    private const double MaxBackwardJump = 3.0;

    private readonly Lock _gate = new();
    private double _offset;
    private double _reached = position;
    private double _lastRaw = double.NaN;

    /// <summary>Unix time (seconds) of stream time 0.</summary>
    public double Epoch { get; } = epoch;

    /// <summary>The latest stream time media has reached.</summary>
    public double Reached
    {
        get { lock (_gate) return _reached; }
    }

    /// <summary>Stream time that "now" stands for (wall clock), never behind what media reached.</summary>
    public double Now
    {
        get { lock (_gate) return Math.Max(WallNow() - Epoch, _reached); }
    }

    /// <summary>A new connection starts: its media time 0 maps to the stream time now.</summary>
    public void BeginConnection()
    {
        lock (_gate)
        {
            _offset = Math.Max(WallNow() - Epoch, _reached);
            _lastRaw = double.NaN;
        }
    }

    /// <summary>Stream time of a media timestamp of the current connection.</summary>
    public double Map(double mediaTime)
    {
        lock (_gate) return _offset + mediaTime;
    }

    /// <summary>Media reached <paramref name="mediaTime"/> (end of a frame or block); re-anchors across timestamp jumps.</summary>
    public void Advance(double mediaTime, double duration)
    {
        lock (_gate)
        {
            if (!double.IsNaN(_lastRaw) && (mediaTime < _lastRaw - MaxBackwardJump || mediaTime - _lastRaw > MaxForwardJump))
            {
                _offset = _reached - mediaTime; // discontinuity: continue from where the stream was
                _lastRaw = double.NaN;
            }
            // the latest end over audio and video: their interleaving differs by up to a second or so
            _lastRaw = double.IsNaN(_lastRaw) ? mediaTime + duration : Math.Max(_lastRaw, mediaTime + duration);
            var mapped = _offset + mediaTime + duration;
            if (mapped > _reached) _reached = mapped;
        }
    }

    private static double WallNow() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
