using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Media;

/// <summary>
/// A stream without key frames (x264 intra refresh) marks where each refresh wave starts with a recovery
/// point SEI; the parser flags those packets key, the decoder does not flag the pictures. The converter
/// must report exactly those pictures as recovery points, and none in an ordinary stream.
/// </summary>
public sealed class RecoveryPointTests
{
    [Theory]
    [InlineData("recovery-intra-refresh.ts", "-intra-refresh 1 -f mpegts", new[] { 25, 50, 75 })]
    [InlineData("recovery-intra-refresh.mp4", "-intra-refresh 1", new[] { 25, 50, 75 })]
    [InlineData("recovery-ordinary.ts", "-f mpegts", new int[0])]
    public async Task Read_RecoveryPoints_OnlyWhereARefreshWaveStarts(string name, string options, int[] expected)
    {
        var clip = await TestClips.Generate(name,
            $"-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v libx264 -preset veryfast -bf 0 -g 25 -pix_fmt yuv420p {options}");
        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1, Audio = false });
        var recoveryPoints = new List<int>();
        var keyFrames = new List<int>();
        var n = 0;
        while (source.Read() is { Kind: not MediaItemKind.End } item)
        {
            if (item.Video is not { } frame) continue;
            if (frame.IsRecoveryPoint) recoveryPoints.Add(n);
            if (frame.IsKeyFrame) keyFrames.Add(n);
            frame.Release();
            n++;
        }
        Assert.Equal(100, n);
        Assert.Equal(expected, recoveryPoints);
        Assert.Equal(expected.Length > 0 ? [0] : new[] { 0, 25, 50, 75 }, keyFrames);
    }
}
