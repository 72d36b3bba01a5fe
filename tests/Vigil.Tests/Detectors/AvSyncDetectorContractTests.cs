using Vigil.Detectors;
using Vigil.Detectors.Sync;
using Vigil.Media;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="AvSyncDetector"/>, which listens to pictures and sound together. A unit
/// is one 25 fps frame and the 40 ms of stereo audio beside it. The content is a flash (a white frame on black)
/// at irregular times, repeating every 10.56 s, each with a one-frame 1 kHz beep: in the normal unit the beep
/// comes with its flash, in the defect unit 300 ms after it (audio late, beyond the 125 ms tolerance).
/// The offset is estimated over a 10 s window every second, so a defect is confirmed seconds after it begins;
/// but an interval starts halfway between the last evidence of the old offset and the first of the new, so the
/// reported times lie within one flash interval (at most 1.40 s) of the content change; after a hole (which
/// keeps the tracks' alignment) that halfway point can lie inside the hole.
/// </summary>
public sealed class AvSyncDetectorContractTests : DetectorContractTests
{
    private const double Fps = 25;
    private const int Rate = 48000;
    private const int Period = 264; // frames: 10.56 s
    private static readonly int[] FlashFrames = [0, 23, 55, 74, 102, 137, 158, 184, 215, 235]; // gaps 0.92 … 1.40 s
    private const double Late = 0.3;
    private int _width = 64;

    protected override IDetector Create(IDefectSink sink) => new AvSyncDetector(new AvSyncOptions(), sink);
    protected override double Unit => 1 / Fps;
    protected override MediaTrack[] Tracks => [MediaTrack.Video, MediaTrack.Audio];
    protected override double MinDuration => new AvSyncOptions().MinDuration;
    protected override double Lead => 12;
    protected override double SurelyDetected => 20;
    protected override double Settle => 15;
    protected override double OnsetSlack => 1.5;
    protected override double EndSlack => 1.5;
    protected override bool StartMayFallInHole => true;

    private static bool IsFlash(long frame) => Array.IndexOf(FlashFrames, (int)(((frame % Period) + Period) % Period)) >= 0;

    private VideoFrame Picture(double pts)
    {
        var frame = VideoFrame.Create(_width, _width * 3 / 4, pts);
        frame.Duration = Unit;
        frame.Luma.Fill(IsFlash((long)Math.Round(pts * Fps)) ? (byte)235 : (byte)16);
        return frame;
    }

    private static AudioBlock Sound(double pts, bool defect)
    {
        var samples = (int)Math.Round(Rate / Fps);
        var block = AudioBlock.Create(2, samples, Rate, pts);
        var offset = defect ? Late : 0;
        for (var i = 0; i < samples; i++)
        {
            var t = pts + i / (double)Rate;
            var value = IsFlash((long)Math.Floor((t - offset) * Fps + 1e-9)) ? (float)(0.5 * Math.Sin(2 * Math.PI * 1000 * t)) : 0f;
            block.Channel(0)[i] = value;
            block.Channel(1)[i] = value;
        }
        return block;
    }

    protected override void Feed(IDetector detector, double pts, bool defect)
    {
        ((IVideoDetector)detector).Process(Picture(pts));
        ((IAudioDetector)detector).Process(Sound(pts, defect));
    }

    protected override Action<double> Reusing(IDetector detector, bool defect)
    {
        // a dark and a flash picture, a quiet and a beep block, re-stamped: the pattern stays that of Feed
        var dark = Picture(Unit);
        var flash = Picture(0);
        var quiet = Sound(Unit, defect: false);
        var beep = Sound(0, defect: false);
        var video = (IVideoDetector)detector;
        var audio = (IAudioDetector)detector;
        return pts =>
        {
            var n = (long)Math.Round(pts * Fps);
            var picture = IsFlash(n) ? flash : dark;
            picture.Pts = pts;
            video.Process(picture);
            var block = IsFlash(n - (defect ? (long)Math.Round(Late * Fps) : 0)) ? beep : quiet;
            block.Pts = pts;
            audio.Process(block);
        };
    }

    [Fact]
    public void Process_ResolutionChangeDuringDefect_KeepsDetecting() => AssertFormatChangeDuringDefectKeepsDetecting(() => _width = 48);

    [Fact]
    public void Process_ResolutionChangeWithNormalContent_EmitsNothing() =>
        AssertFormatChangesWithNormalContentEmitNothing(() => _width = 48, () => _width = 80);
}
