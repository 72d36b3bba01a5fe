using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary><c>video.black</c>: the picture is black (logos and bugs allowed) for at least the minimum duration.</summary>
public sealed class BlackDetector : IVideoDetector
{
    public const string KindName = "video.black";

    private readonly BlackFrameClassifier _classifier;
    private readonly IntervalTracker _tracker;
    private double _darkSum;
    private int _frames;

    public BlackDetector(BlackOptions options, IDefectSink sink)
    {
        _classifier = new BlackFrameClassifier(options);
        _tracker = new IntervalTracker(KindName, options.MinDuration, sink)
        {
            Details = () => new Dictionary<string, double> { ["dark_fraction"] = Math.Round(_darkSum / Math.Max(1, _frames), 4) },
        };
    }

    public string Kind => KindName;

    public void Process(VideoFrame frame)
    {
        var black = _classifier.IsBlack(frame);
        if (!_tracker.IsOpen) { _darkSum = 0; _frames = 0; }
        if (black) { _darkSum += _classifier.DarkFraction; _frames++; }
        _tracker.Update(black, frame.Pts, frame.Pts + frame.Duration, confidence: black ? _classifier.DarkFraction : 0);
    }

    public void Tick(double now) => _tracker.Tick(now);

    public void OnDiscontinuity(in Discontinuity discontinuity)
    {
        if (discontinuity.Track == MediaTrack.Video) _tracker.Break();
    }

    public void Flush(double endOfInput, string closedBy) => _tracker.Close(closedBy: closedBy);
}
