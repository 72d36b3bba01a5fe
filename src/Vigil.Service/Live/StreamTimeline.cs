namespace Vigil.Service.Live;

/// <summary>
/// Maps a connection's media time onto the stream's own clock, which never goes backwards: media time
/// restarts at 0 on every reconnect (and after a service restart), so each connection gets an offset
/// that puts its first frame at the later of "wall-clock seconds since the stream's epoch" and "the
/// stream time already reached". Within a connection media time is already continuous (the pipeline's
/// timeline maps timestamp jumps away), so the offset is all this adds. Stream time is what events
/// carry in <c>start</c>/<c>end</c>; <c>epoch + stream time</c> is their wall-clock time.
/// Media never maps later than the moment it arrives (<see cref="Arrive"/>): a connection's first
/// seconds come out of the probe and buffers in a burst, and an event's time must not lie in the future.
/// </summary>
public sealed class StreamTimeline(double epoch, double position)
{
    private readonly Lock _gate = new();
    private double _offset;
    private double _reached = position;
    private double _floor = position; // what the previous connections reached: this one maps nothing earlier
    private double _firstMedia = double.NaN; // media time of the connection's first item

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

    /// <summary>
    /// Stream time (wall clock) at which the latest item arrived: what a defect found on it may carry at the
    /// latest. One value per item, so defects found together on one item get one time.
    /// </summary>
    public double LastArrival
    {
        get { lock (_gate) return _lastArrival; }
    }

    private double _lastArrival;

    /// <summary>A new connection starts: its media time 0 maps to the stream time now.</summary>
    public void BeginConnection()
    {
        lock (_gate)
        {
            _offset = Math.Max(WallNow() - Epoch, _reached);
            _floor = _reached;
            _firstMedia = double.NaN;
        }
    }

    /// <summary>
    /// An item of media time <paramref name="mediaTime"/> arrives now (before any detector sees it): when it
    /// would map later than now, the connection's offset moves back so that it maps to now, but never so
    /// far that it maps before what earlier connections reached (stream time does not go backwards). The
    /// offset only ever moves back, so it settles on the earliest arrivals: the feed's own latency, not the
    /// burst it started with (and not the audio/video interleaving, which is why it never moves forward).
    /// A burst larger than the time since the floor (a live playlist's backlog at the first connection)
    /// cannot all move back; <see cref="LastArrival"/> bounds what events carry meanwhile.
    /// </summary>
    public void Arrive(double mediaTime)
    {
        lock (_gate)
        {
            if (double.IsNaN(_firstMedia)) _firstMedia = mediaTime;
            _lastArrival = WallNow() - Epoch;
            var latest = _lastArrival - mediaTime;
            if (_offset > latest) _offset = Math.Max(latest, Math.Min(_offset, _floor - _firstMedia));
        }
    }

    /// <summary>Stream time of a media timestamp of the current connection.</summary>
    public double Map(double mediaTime)
    {
        lock (_gate) return _offset + mediaTime;
    }

    /// <summary>Media reached <paramref name="mediaTime"/> (the end of a frame or block) on the current connection.</summary>
    public void Advance(double mediaTime)
    {
        lock (_gate)
        {
            var mapped = _offset + mediaTime;
            if (mapped > _reached) _reached = mapped;
        }
    }

    private static double WallNow() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
