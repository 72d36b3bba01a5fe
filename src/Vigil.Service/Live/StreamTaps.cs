using System.Diagnostics;
using Vigil.Detectors;
using Vigil.Media;

namespace Vigil.Service.Live;

/// <summary>
/// Runs first among a connection's detectors: notes that media arrives (ends a stall, feeds the lag
/// figure) and keeps the latest picture for defect snapshots (retained, so no copy per frame).
/// </summary>
internal sealed class ArrivalTap(Action<double> onMedia) : IVideoDetector, IAudioDetector
{
    private VideoFrame? _latest;

    public string Kind => "service.arrival";

    /// <summary>The picture detectors are looking at now; only valid on the detector thread.</summary>
    public VideoFrame? Latest => _latest;

    public void Process(VideoFrame frame)
    {
        frame.Retain();
        _latest?.Release();
        _latest = frame;
        onMedia(frame.Pts);
    }

    public void Process(AudioBlock block) => onMedia(block.Pts);

    public void Flush(double endOfInput)
    {
        _latest?.Release();
        _latest = null;
    }
}

/// <summary>
/// Runs last among a connection's detectors, after every detector has seen the item: advances the
/// stream timeline (so a defect closed at a timestamp jump is still mapped with the old offset) and
/// records progress for the lag figure.
/// </summary>
internal sealed class ProgressTap(StreamTimeline timeline, ConnectionProgress progress) : IVideoDetector, IAudioDetector
{
    public string Kind => "service.progress";

    public void Process(VideoFrame frame) => Advance(frame.Pts, frame.Duration);

    public void Process(AudioBlock block) => Advance(block.Pts, block.Duration);

    private void Advance(double pts, double duration)
    {
        timeline.Advance(pts, duration);
        progress.Reached(pts + duration);
    }

    public void Flush(double endOfInput)
    {
    }
}

/// <summary>How far one connection's media got against the wall clock since its first item: the lag behind live.</summary>
internal sealed class ConnectionProgress
{
    private readonly Lock _gate = new();
    private long _firstWall;
    private double _firstMedia = double.NaN, _lastMedia;

    public void Reached(double mediaTime)
    {
        lock (_gate)
        {
            if (double.IsNaN(_firstMedia))
            {
                _firstMedia = mediaTime;
                _firstWall = Stopwatch.GetTimestamp();
            }
            if (mediaTime > _lastMedia) _lastMedia = mediaTime;
        }
    }

    /// <summary>Seconds the analysed media trails real time since the connection's first item (never negative).</summary>
    public double Lag
    {
        get
        {
            lock (_gate)
            {
                if (double.IsNaN(_firstMedia)) return 0;
                var wall = Stopwatch.GetElapsedTime(_firstWall).TotalSeconds;
                return Math.Max(0, wall - (_lastMedia - _firstMedia));
            }
        }
    }
}
