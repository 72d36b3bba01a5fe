namespace Vigil.Service.Live;

/// <summary>
/// Maps a connection's media time onto the stream's own clock, which never goes backwards: media time
/// restarts at 0 on every reconnect (and after a service restart), so each connection gets an offset
/// that puts its first frame at the later of "wall-clock seconds since the stream's epoch" and "the
/// stream time already reached". Within a connection media time is already continuous (the pipeline's
/// timeline maps timestamp jumps away), so the offset is all this adds. Stream time is what events
/// carry in <c>start</c>/<c>end</c>; <c>epoch + stream time</c> is their wall-clock time.
/// </summary>
public sealed class StreamTimeline(double epoch, double position)
{
    private readonly Lock _gate = new();
    private double _offset;
    private double _reached = position;

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
