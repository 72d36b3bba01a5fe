using Vigil.Media;
using Vigil.Tests.Support;
using Vigil.Tools;

namespace Vigil.Tests.Media;

/// <summary>
/// 10-bit pictures (HEVC Main 10, H.264 High 10) are analysed like 8-bit ones: their luma is rounded to
/// 8 bits, (v + 2) >> 2, and the block-grid statistics are measured on it, so blockiness and corruption
/// judge them too. Checked against the decoder's own 10-bit luma, written out raw by the ffmpeg CLI.
/// </summary>
public sealed class WideLumaTests
{
    private const int Width = 320, Height = 240, Frames = 10;

    [Fact]
    public async Task Read_TenBitH264_LumaIsTheDecodedLumaRoundedToEightBitsWithGridStatistics()
    {
        var clip = await TestClips.Generate("wide-h264-10.mp4",
            $"-f lavfi -i testsrc2=size={Width}x{Height}:rate=25:duration=0.4,noise=alls=8:allf=t -c:v libx264 -preset ultrafast -pix_fmt yuv420p10le");
        var expected = await TenBitLumaRoundedAsync(clip);

        using var source = MediaSource.Open(clip, new MediaOpenOptions { DecodeThreads = 1, Audio = false, AnalysisMaxWidth = 0 });
        var n = 0;
        while (source.Read() is { Kind: not MediaItemKind.End } item)
        {
            if (item.Video is not { } frame) continue;
            Assert.Equal((Width, Height), (frame.Width, frame.Height));
            var want = expected[n];
            Assert.True(want.AsSpan().SequenceEqual(frame.Luma), $"frame {n}: luma differs from byte {want.AsSpan().CommonPrefixLength(frame.Luma)}");

            Assert.True(frame.Grid.IsValid, $"frame {n}: no grid statistics");
            var grid = new BlockGridStats();
            BlockGridStats.Measure(want, Width, Width, Height, grid);
            Assert.True(grid.EdgeLeft.SequenceEqual(frame.Grid.EdgeLeft) && grid.EdgeTop.SequenceEqual(frame.Grid.EdgeTop)
                        && grid.Sum.SequenceEqual(frame.Grid.Sum) && grid.Activity.SequenceEqual(frame.Grid.Activity),
                $"frame {n}: grid statistics differ from those of the rounded luma");
            frame.Release();
            n++;
        }
        Assert.Equal(Frames, n);
    }

    /// <summary>Each frame's Y plane as the decoder produced it (rawvideo, no conversion), rounded to 8 bits.</summary>
    private static async Task<List<byte[]>> TenBitLumaRoundedAsync(string clip)
    {
        var raw = Path.Combine(TestClips.WorkFolder, Path.GetFileNameWithoutExtension(clip) + ".yuv");
        await FfmpegCli.RunAsync($"-y -v error -threads 1 -i \"{clip}\" -c:v rawvideo -pix_fmt yuv420p10le -f rawvideo \"{raw}\"");
        var bytes = await File.ReadAllBytesAsync(raw);
        var frameBytes = Width * Height * 2 * 3 / 2; // Y, then U and V at a quarter each, 2 bytes a sample
        Assert.Equal(Frames * frameBytes, bytes.Length);
        var frames = new List<byte[]>();
        for (var f = 0; f < Frames; f++)
        {
            var luma = new byte[Width * Height];
            for (var i = 0; i < luma.Length; i++)
            {
                var v = bytes[f * frameBytes + 2 * i] | bytes[f * frameBytes + 2 * i + 1] << 8;
                luma[i] = (byte)Math.Min(255, (v + 2) >> 2);
            }
            frames.Add(luma);
        }
        return frames;
    }
}
