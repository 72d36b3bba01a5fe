using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;

namespace Vigil.Tests;

/// <summary>The corruption state machine on synthetic frames: onset from each signal, healing at a clean key frame.</summary>
public class CorruptionDetectorTests
{
    private const double Frame = 0.04;

    private sealed class Sink : IDefectSink
    {
        public List<Defect> Started { get; } = [];
        public List<Defect> Ended { get; } = [];
        public void DefectStarted(Defect defect) => Started.Add(defect);
        public void DefectEnded(Defect defect) => Ended.Add(defect);
    }

    private readonly Sink _sink = new();
    private readonly CorruptionDetector _detector;

    public CorruptionDetectorTests() => _detector = new CorruptionDetector(new CorruptionOptions(), _sink, videoStream: 0);

    private void Feed(int n, PictureType type = PictureType.P, DecodeErrors errors = DecodeErrors.None, double? pts = null)
    {
        var frame = VideoFrame.Create(64, 48, pts ?? n * Frame);
        frame.Duration = Frame;
        frame.PictureType = type;
        frame.IsKeyFrame = type == PictureType.I;
        frame.DecodeErrors = errors;
        _detector.Process(frame);
    }

    [Fact]
    public void Process_DecodeErrorFlag_DefectLastsUntilNextCleanKeyFrame()
    {
        Feed(0, PictureType.I);
        for (var n = 1; n < 10; n++) Feed(n);
        Feed(10, errors: DecodeErrors.ConcealmentActive);
        for (var n = 11; n < 25; n++) Feed(n); // unflagged, but predicted from the damaged frame
        Feed(25, PictureType.I);
        Feed(26);

        Assert.Single(_sink.Started);
        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(10 * Frame, defect.Start, 6);
        Assert.Equal(25 * Frame, defect.End!.Value, 6);
        Assert.Equal(CorruptionDetector.KindName, defect.Kind);
        Assert.True(defect.Details!.ContainsKey("area"));
    }

    [Fact]
    public void Process_DamagedKeyFrame_DoesNotHeal()
    {
        Feed(0, errors: DecodeErrors.InvalidBitstream);
        Feed(1, PictureType.I, DecodeErrors.MissingReference);
        Feed(2);
        Feed(3, PictureType.I);

        Assert.Equal(3 * Frame, Assert.Single(_sink.Ended).End!.Value, 6);
    }

    [Fact]
    public void Process_ContinuityErrorOnVideoStream_OpensDefectAtNextFrame()
    {
        Feed(0, PictureType.I);
        _detector.Process(new MediaEvent(MediaEventKind.PacketCorrupt, 0, double.NaN));
        Feed(1);
        Feed(2);
        _detector.Flush(3 * Frame);

        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(1 * Frame, defect.Start, 6);
    }

    [Fact]
    public void Process_ContinuityErrorOnAudioStream_Ignored()
    {
        Feed(0, PictureType.I);
        _detector.Process(new MediaEvent(MediaEventKind.PacketCorrupt, 1, double.NaN));
        Feed(1);
        _detector.Flush(2 * Frame);

        Assert.Empty(_sink.Ended);
    }

    [Fact]
    public void Process_FrameMissingFromTimestamps_OpensDefect()
    {
        Feed(0, PictureType.I);
        Feed(1);
        Feed(3); // frame 2 never arrived
        Feed(4);
        Feed(5, PictureType.I);

        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(3 * Frame, defect.Start, 6);
        Assert.Equal(5 * Frame, defect.End!.Value, 6);
    }

    [Fact]
    public void Process_TimelineJumpBeyondMaxPropagation_NotAGap()
    {
        Feed(0, PictureType.I);
        Feed(1);
        Feed(0, pts: 60); // a discontinuity (new programme, wrap), not lost frames
        Feed(0, pts: 60 + Frame);
        _detector.Flush(61);

        Assert.Empty(_sink.Ended);
    }

    [Fact]
    public void Flush_OpenDefect_ClosedAtEndOfInput()
    {
        Feed(0, errors: DecodeErrors.DecodeSlices);
        Feed(1);
        _detector.Flush(2 * Frame);

        Assert.Equal(2 * Frame, Assert.Single(_sink.Ended).End!.Value, 6);
    }
}
