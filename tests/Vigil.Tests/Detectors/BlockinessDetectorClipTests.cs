using Vigil.Detectors.Video;
using Vigil.Tests.Support;

namespace Vigil.Tests.Detectors;

/// <summary><c>video.blockiness</c> on clean clips generated with ffmpeg whose content lies on the block grid.</summary>
public sealed class BlockinessDetectorClipTests
{
    [Theory]
    [InlineData("320x240", "ultrafast")]
    [InlineData("320x240", "veryfast")]
    [InlineData("640x360", "ultrafast")]
    [InlineData("640x360", "veryfast")]
    public async Task Analyze_TestPatternSquaresOnTheBlockGrid_NoBlockiness(string size, string preset)
    {
        // the trap: testsrc2's small flat squares and dotted path sit on the 8-px grid and step both the left
        // and top edges of their blocks, by tens of code values; at 320x240 they pass 1.5 % of the blocks
        var clip = await TestClips.Generate($"testsrc2-{size}-{preset}.mp4",
            $"-f lavfi -i testsrc2=size={size}:rate=25:duration=4 -c:v libx264 -preset {preset} -pix_fmt yuv420p -g 50");

        var result = await Analysis.RunAsync(clip, BlockinessDetector.KindName);

        Assert.Empty(result.Started);
        Assert.Equal(100, result.Summary.VideoFrames);
    }
}
