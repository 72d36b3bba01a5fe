using System.Diagnostics;
using Vigil.Media;
using Vigil.Pipeline;

namespace Vigil.Service.Live;

/// <summary>
/// Sees each item before the detectors: notes that media arrives (ends a stall, feeds the lag figure)
/// and keeps the latest picture for defect snapshots (retained, so no copy per frame); and hears of codec
/// changes, after which the status shows what the input carries now.
/// </summary>
internal sealed class ArrivalTap(Action<double> onMedia, Action onCodecChange) : IAnalysisObserver
{
    private VideoFrame? _latest;

    /// <summary>The picture detectors are looking at now; only valid on the analysis thread.</summary>
    public VideoFrame? Latest => _latest;

    public void BeforeVideo(VideoFrame frame)
    {
        frame.Retain();
        _latest?.Release();
        _latest = frame;
        onMedia(frame.Pts);
    }

    public void BeforeAudio(AudioBlock block) => onMedia(block.Pts);

    public void OnMediaEvent(in MediaEvent mediaEvent)
    {
        if (mediaEvent.Kind == MediaEventKind.CodecChange) onCodecChange();
    }

    /// <summary>After the detectors' flush (whose last defects may still want the picture).</summary>
    public void OnEnd(in AnalysisEnd end)
    {
        _latest?.Release();
        _latest = null;
    }
}

/// <summary>Sees each item after the detectors: advances the stream clock and records progress for the lag figure.</summary>
internal sealed class ProgressTap(StreamTimeline timeline, ConnectionProgress progress) : IAnalysisObserver
{
    public void AfterVideo(VideoFrame frame) => Advance(frame.Pts + frame.Duration);

    public void AfterAudio(AudioBlock block) => Advance(block.Pts + block.Duration);

    private void Advance(double end)
    {
        timeline.Advance(end);
        progress.Reached(end);
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
