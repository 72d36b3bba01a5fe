using Vigil.Detectors;
using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary>
/// The detector contract for <see cref="BlockinessDetector"/> (codec unknown: both measures). Pictures carry
/// their full-resolution grid statistics, as the converter measures them. The defect unit is a smooth moving
/// ramp quantised into flat 8×8 blocks (what a starved DCT codec leaves); the normal unit, texture.
/// </summary>
public sealed class BlockinessDetectorContractTests : VideoDetectorContractTests
{
    protected override IDetector Create(IDefectSink sink) => new BlockinessDetector(new BlockinessOptions(), sink);
    protected override double MinDuration => new BlockinessOptions().MinDuration;

    protected override void FillDefect(VideoFrame frame)
    {
        var n = (int)Math.Round(frame.Pts / Unit);
        var luma = frame.Luma;
        for (var y = 0; y < frame.Height; y++)
            for (var x = 0; x < frame.Width; x++)
                luma[y * frame.Width + x] = (byte)(30 + (x / 8 * 8 + 4 + 2 * (y / 8 * 8 + 4) + n) / 3 % 200);
        frame.MeasureGrid();
    }

    protected override void FillNormal(VideoFrame frame)
    {
        Synthetic.FillNoise(frame.Luma, Seed(frame.Pts));
        frame.MeasureGrid();
    }
}
