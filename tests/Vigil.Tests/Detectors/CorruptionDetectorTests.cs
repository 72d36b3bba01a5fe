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

    private void Feed(int n, PictureType type = PictureType.P, DecodeErrors errors = DecodeErrors.None, double? pts = null, bool recoveryPoint = false)
    {
        var frame = VideoFrame.Create(64, 48, pts ?? n * Frame);
        frame.Duration = Frame;
        frame.PictureType = type;
        frame.IsKeyFrame = type == PictureType.I;
        frame.IsRecoveryPoint = recoveryPoint;
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
    public void Process_ContinuityErrorAlonePicturesClean_NoDefect()
    {
        // a demuxer flag is a reason to look, not a verdict (a clean broadcast can flag every other packet)
        Feed(0, PictureType.I);
        for (var n = 1; n < 30; n++)
        {
            _detector.Process(new MediaEvent(MediaEventKind.PacketCorrupt, 0, double.NaN));
            Feed(n);
        }
        _detector.Flush(30 * Frame);

        Assert.Empty(_sink.Ended);
    }

    [Fact]
    public void Process_ContinuityErrorThenDecoderError_DefectStartsWhereTheDecoderConfirms()
    {
        Feed(0, PictureType.I);
        _detector.Process(new MediaEvent(MediaEventKind.PacketCorrupt, 0, double.NaN));
        Feed(1);
        Feed(2);
        Feed(3, errors: DecodeErrors.ConcealmentActive);
        Feed(4);
        _detector.Flush(5 * Frame);

        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(3 * Frame, defect.Start, 6); // the flagged packet's picture may look fine; damage shows where confirmed
    }

    [Fact]
    public void Process_RejectedPacket_OpensDefect()
    {
        Feed(0, PictureType.I);
        _detector.Process(new MediaEvent(MediaEventKind.DecodeError, 0, double.NaN));
        Feed(1);
        _detector.Flush(2 * Frame);

        Assert.Equal(1 * Frame, Assert.Single(_sink.Ended).Start, 6);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]  // the same picture without a flagged packet: far below the picture-only onset
    public void Process_ContinuityErrorThenABlockBreaks_ConfirmedFromThePicture(bool flagged, int defects)
    {
        var detector = new CorruptionDetector(new CorruptionOptions(), _sink, videoStream: 0);
        detector.Process(RampWithPatches(0));
        detector.Process(RampWithPatches(1));
        if (flagged) detector.Process(new MediaEvent(MediaEventKind.PacketCorrupt, 0, double.NaN));
        detector.Process(RampWithPatches(2));
        detector.Process(RampWithPatches(3, (3, 5))); // one block of 70 cut out
        detector.Process(RampWithPatches(4, (3, 5)));
        detector.Flush(5 * Frame);

        Assert.Equal(defects, _sink.Ended.Count);
        if (defects > 0) Assert.Equal(3 * Frame, _sink.Ended[0].Start, 6);
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

    [Theory]
    [InlineData(10, 13 + 10 + 1)] // recovery points every 10 frames: renewed one period after the damage
    [InlineData(0, 13 + 250 + 1)] // none: only the propagation limit (10 s) ends it
    [InlineData(1, 13 + 250 + 1)] // on every frame: a mislabelled stream, not a refresh wave
    public void Process_IntraRefreshStream_HealsOneRefreshPeriodAfterTheDamage(int recoveryEvery, int healedAt)
    {
        Feed(0, PictureType.I);
        for (var n = 1; n < 300; n++)
            Feed(n, errors: n == 13 ? DecodeErrors.ConcealmentActive : DecodeErrors.None, recoveryPoint: recoveryEvery > 0 && n % recoveryEvery == 0);
        _detector.Flush(300 * Frame);

        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(13 * Frame, defect.Start, 6);
        Assert.Equal(healedAt * Frame, defect.End!.Value, 6);
    }

    [Fact]
    public void Flush_OpenDefect_ClosedAtEndOfInput()
    {
        Feed(0, errors: DecodeErrors.DecodeSlices);
        Feed(1);
        _detector.Flush(2 * Frame);

        Assert.Equal(2 * Frame, Assert.Single(_sink.Ended).End!.Value, 6);
    }

    /// <summary>
    /// An 80×56 picture (10×7 = 70 blocks: 4 SIMD steps of 16 and a scalar tail of 6) on a gentle ramp;
    /// <paramref name="cutOut"/> blocks (row, column) are replaced by flat patches 40 code values brighter,
    /// which steps their left and top edges and leaves their inside flat: blocks that look broken (the grid
    /// measures no horizontal steps in the first and last 16-px columns, so patches stay out of them).
    /// </summary>
    private static VideoFrame RampWithPatches(int n, params (int Row, int Column)[] cutOut)
    {
        var frame = VideoFrame.Create(80, 56, n * Frame);
        frame.Duration = Frame;
        frame.PictureType = n == 0 ? PictureType.I : PictureType.P;
        frame.IsKeyFrame = n == 0;
        for (var y = 0; y < 56; y++)
        for (var x = 0; x < 80; x++)
            frame.Luma[y * 80 + x] = (byte)(60 + x + y);
        foreach (var (row, column) in cutOut)
            for (var y = 8 * row; y < 8 * row + 8; y++)
                frame.Luma.Slice(y * 80 + 8 * column, 8).Fill((byte)(100 + 8 * column + 8 * row));
        frame.MeasureGrid();
        return frame;
    }

    [Fact]
    public void Process_BlocksCutOutOfAnUnchangedPicture_CountedOnlyWhenNew()
    {
        var detector = new CorruptionDetector(new CorruptionOptions { PictureOnset = 0.04 }, _sink, videoStream: 0);
        (int, int)[] cut = [(1, 2), (3, 5), (6, 7)]; // block 67 lies in the scalar tail
        detector.Process(RampWithPatches(0));
        detector.Process(RampWithPatches(1));
        Assert.Equal(0, detector.LastEvidence.NewEdgeFraction);
        Assert.True(double.IsNaN(detector.LastEvidence.GlobalChange), "measured without a candidate");

        detector.Process(RampWithPatches(2, cut));
        Assert.Equal(3 / 70.0, detector.LastEvidence.NewEdgeFraction, 9);
        Assert.Equal(0, detector.LastEvidence.GlobalChange); // the rest of the picture did not move
        Assert.True(detector.LastEvidence.Damaged);

        detector.Process(RampWithPatches(3, cut)); // still there, not new
        Assert.Equal(0, detector.LastEvidence.NewEdgeFraction);
        detector.Process(RampWithPatches(4, [.. cut, (5, 3)]));
        Assert.Equal(1 / 70.0, detector.LastEvidence.NewEdgeFraction, 9);
        detector.Flush(5 * Frame);

        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(2 * Frame, defect.Start, 6);
        Assert.Equal(4 / 70.0, defect.Details!["area"], 4);
    }

    [Fact]
    public void Process_DecoderConcealedAShare_AreaIsAtLeastThatShare()
    {
        var detector = new CorruptionDetector(new CorruptionOptions(), _sink, videoStream: 0);
        detector.Process(RampWithPatches(0));
        var concealed = RampWithPatches(1, (3, 5));
        concealed.DecodeErrors = DecodeErrors.ConcealmentActive;
        concealed.ConcealedArea = 0.3;
        detector.Process(concealed);
        detector.Process(RampWithPatches(2));
        detector.Flush(3 * Frame);

        Assert.Equal(0.3, Assert.Single(_sink.Ended).Details!["area"], 4);
    }

    [Fact]
    public void Process_BlocksBreakingAfterAConcealment_NeitherAreaNorEvidence()
    {
        // after the decoder concealed, pixels depend on thread timing: only the decoder's count is the area,
        // and in an intra-refresh stream the damage heals one period after the concealment, not after the pixels
        var detector = new CorruptionDetector(new CorruptionOptions { PictureOnset = 0.01 }, _sink, videoStream: 0);
        for (var n = 0; n < 3; n++)
        {
            var frame = RampWithPatches(n);
            frame.IsRecoveryPoint = n == 0;
            detector.Process(frame);
        }
        var concealed = RampWithPatches(3);
        concealed.DecodeErrors = DecodeErrors.ConcealmentActive;
        concealed.ConcealedArea = 0.02;
        detector.Process(concealed);
        (int, int)[] cut = [];
        for (var n = 4; n < 40; n++)
        {
            if (n is 4 or 8 or 12) cut = [.. cut, (1 + n / 4, 2 + n / 4)]; // a block breaking anew, enough for picture evidence
            var frame = RampWithPatches(n, cut);
            frame.IsRecoveryPoint = n % 10 == 0;
            detector.Process(frame);
        }
        detector.Flush(40 * Frame);

        var defect = Assert.Single(_sink.Ended);
        Assert.Equal(0.02, defect.Details!["area"], 4);
        Assert.Equal((3 + 10 + 1) * Frame, defect.End!.Value, 6);
    }
}
