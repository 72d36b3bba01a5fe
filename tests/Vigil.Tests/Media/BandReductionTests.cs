using Vigil.Media;
using Vigil.Tests.Support;
using Vigil.Tools.Corpus;

namespace Vigil.Tests.Media;

/// <summary>
/// A single-threaded H.264 decoder hands the shim each band of rows as soon as it is final, and the shim
/// reduces it to analysis luma there and then. The result must be exactly the box filter applied to the
/// finished full-resolution picture (computed here from a full-resolution decode), for B-frame
/// reordering, cropping (1080 of 1088 coded rows), both row modes (one row in f; all f rows with grid
/// statistics), and damaged streams, whose broken pictures must fall back to the whole-picture path.
/// The block-grid statistics, measured band by band too, must equal those of the finished picture.
/// </summary>
public sealed class BandReductionTests
{
    private const string H264_1080 = "-f lavfi -i testsrc2=size=1920x1080:rate=25:duration=1 -c:v libx264 -preset ultrafast -bf 2 -g 12 -pix_fmt yuv420p";
    private const string H264_720 = "-f lavfi -i testsrc2=size=1280x720:rate=25:duration=2 -c:v libx264 -preset veryfast -bf 3 -g 25 -pix_fmt yuv420p -f mpegts";

    public static TheoryData<string, string, bool> Clips => new()
    {
        { "band-1080-h264.mp4", H264_1080, false },
        { "band-1080-h264.mp4", H264_1080, true },
        // deblocking on: bands arrive 20 rows behind the macroblock row being decoded
        { "band-720-h264.ts", H264_720, false },
        { "band-720-h264.ts", H264_720, true },
    };

    [Theory]
    [MemberData(nameof(Clips))]
    public async Task Read_SingleThreadedH264_BandReducedLumaEqualsBoxFilterOfFinishedPicture(string name, string encode, bool gridStatistics)
    {
        var clip = await TestClips.Generate(name, encode);
        var (banded, bandReduced) = Decode(clip, analysisWidth: 640, gridStatistics);
        var (full, _) = Decode(clip, analysisWidth: 0, gridStatistics: false);

        Assert.Equal(full.Count, bandReduced); // every picture took the band path
        AssertReductionsEqual(full, banded, gridStatistics);
        if (!gridStatistics) return;
        for (var i = 0; i < full.Count; i++)
        {
            var expected = new BlockGridStats();
            BlockGridStats.Measure(full[i].Luma, full[i].Width, full[i].Width, full[i].Height, expected);
            var want = Maps(expected);
            var got = banded[i].Maps!;
            for (var m = 0; m < want.Length; m++)
                Assert.True(want[m].AsSpan().SequenceEqual(got[m]), $"picture {i}: grid map {m} differs from block {want[m].AsSpan().CommonPrefixLength(got[m])}");
        }
    }

    private static ushort[][] Maps(BlockGridStats grid) =>
        [grid.EdgeLeft.ToArray(), grid.EdgeTop.ToArray(), grid.InnerLeft.ToArray(), grid.InnerTop.ToArray(), grid.Sum.ToArray(), grid.Activity.ToArray()];

    [Fact]
    public async Task Read_DamagedH264_BrokenPicturesFallBackAndAllMatchBoxFilter()
    {
        var clean = await TestClips.Generate("band-720-h264.ts", H264_720);
        var damaged = Path.Combine(TestClips.WorkFolder, "band-720-h264-damaged.ts");
        File.WriteAllBytes(damaged, new TsDamage(File.ReadAllBytes(clean)).DropPackets(10, 1, 7).GarblePackets(30, 2, 4, seed: 7).Build());

        var (banded, bandReduced) = Decode(damaged, analysisWidth: 640, gridStatistics: false);
        var (full, _) = Decode(damaged, analysisWidth: 0, gridStatistics: false);

        Assert.InRange(bandReduced, 1, full.Count - 1); // the damaged pictures took the whole-picture path
        AssertReductionsEqual(full, banded, gridStatistics: false);
    }

    [Fact]
    public async Task Read_Mpeg2_ReducesWholePictures()
    {
        // MPEG-2 reports bands of B-pictures that differ from the B-picture it outputs: it must not take the band path
        var clip = await TestClips.Generate("band-720-mpeg2.ts", "-f lavfi -i testsrc2=size=1280x720:rate=25:duration=1 -c:v mpeg2video -q:v 4 -bf 2 -g 12");
        var (banded, bandReduced) = Decode(clip, analysisWidth: 640, gridStatistics: false);
        var (full, _) = Decode(clip, analysisWidth: 0, gridStatistics: false);

        Assert.Equal(0, bandReduced);
        AssertReductionsEqual(full, banded, gridStatistics: false);
    }

    private static void AssertReductionsEqual(List<Picture> full, List<Picture> reduced, bool gridStatistics)
    {
        Assert.Equal(full.Count, reduced.Count);
        for (var i = 0; i < full.Count; i++)
        {
            var expected = Box(full[i].Luma, full[i].Width, full[i].Height, reduced[i].Width, allRows: gridStatistics);
            Assert.True(expected.AsSpan().SequenceEqual(reduced[i].Luma), $"picture {i} differs from byte {expected.AsSpan().CommonPrefixLength(reduced[i].Luma)}");
        }
    }

    /// <summary>The shim's box filter, written out: f across, and f rows down or only the middle one.</summary>
    private static byte[] Box(byte[] luma, int width, int height, int outWidth, bool allRows)
    {
        var f = width / outWidth;
        var rows = allRows ? f : 1;
        var first = (f - rows) / 2;
        var scale = (1u << 16) / (uint)(f * rows);
        var outHeight = height / f;
        var result = new byte[outWidth * outHeight];
        for (var y = 0; y < outHeight; y++)
            for (var x = 0; x < outWidth; x++)
            {
                uint sum = 0;
                for (var r = 0; r < rows; r++)
                    for (var k = 0; k < f; k++)
                        sum += luma[(y * f + first + r) * width + x * f + k];
                result[y * outWidth + x] = (byte)((sum * scale + (1u << 15)) >> 16);
            }
        return result;
    }

    private sealed record Picture(byte[] Luma, int Width, int Height, ushort[][]? Maps);

    private static (List<Picture> Pictures, long BandReduced) Decode(string clip, int analysisWidth, bool gridStatistics)
    {
        using var source = MediaSource.Open(clip, new MediaOpenOptions
        {
            DecodeThreads = 1, Audio = false, GridStatistics = gridStatistics, AnalysisMaxWidth = analysisWidth,
        });
        var pictures = new List<Picture>();
        while (true)
        {
            var item = source.Read();
            if (item.Kind == MediaItemKind.End) break;
            if (item.Video is { } frame)
            {
                pictures.Add(new Picture(frame.Luma.ToArray(), frame.Width, frame.Height, gridStatistics ? Maps(frame.Grid) : null));
                frame.Release();
            }
        }
        return (pictures, source.BandReducedPictures);
    }
}
