using Vigil.Detectors.Video;
using Vigil.Media;
using Vigil.Tests.Support;

namespace Vigil.Tests.Kernels;

/// <summary><see cref="LumaCells"/> (SIMD) against a plain scalar reference on random pictures of awkward sizes.</summary>
public sealed class LumaCellsTests
{
    private const int S = LumaCells.CellSize;

    /// <summary>The obvious per-pixel computation the SIMD kernel must match exactly.</summary>
    private static (int[] Sum, long[] Squares, int[] Dark, int[] Pixels, int Columns, int Rows) Reference(VideoFrame frame, int threshold)
    {
        var columns = (frame.Width + S - 1) / S;
        var rows = (frame.Height + S - 1) / S;
        var sum = new int[columns * rows];
        var squares = new long[columns * rows];
        var dark = new int[columns * rows];
        var pixels = new int[columns * rows];
        for (var y = 0; y < frame.Height; y++)
            for (var x = 0; x < frame.Width; x++)
            {
                var cell = y / S * columns + x / S;
                int v = frame.Luma[y * frame.Width + x];
                sum[cell] += v;
                squares[cell] += v * v;
                if (v <= threshold) dark[cell]++;
                pixels[cell]++;
            }
        return (sum, squares, dark, pixels, columns, rows);
    }

    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 },
        { 15, 15, 2 },
        { 16, 16, 3 },
        { 17, 9, 4 },
        { 33, 31, 5 },
        { 47, 1, 6 },
        { 1, 47, 7 },
        { 101, 67, 8 },
        { 641, 361, 9 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MeasureWithDark_RandomPicture_MatchesScalarReference(int width, int height, int seed)
    {
        var frame = Synthetic.Noise(width, height, 0, 0.04, seed, low: 0, high: 255);
        var cells = new LumaCells();
        foreach (var threshold in new[] { 0, 37, 128, 254, 255 })
        {
            cells.MeasureWithDark(frame, threshold);
            var expected = Reference(frame, threshold);
            Assert.Equal(expected.Columns, cells.Columns);
            Assert.Equal(expected.Rows, cells.Rows);
            Assert.Equal(expected.Pixels, cells.Pixels.ToArray());
            Assert.Equal(expected.Sum, cells.Sum.ToArray());
            Assert.Equal(expected.Squares, cells.SumSquares.ToArray());
            Assert.Equal(expected.Dark, cells.Dark.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Measure_RandomPicture_SumsMatchScalarReference(int width, int height, int seed)
    {
        var frame = Synthetic.Noise(width, height, 0, 0.04, seed + 100, low: 0, high: 255);
        var cells = new LumaCells();
        cells.Measure(frame);
        Assert.Equal(Reference(frame, 0).Sum, cells.Sum.ToArray());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MeasureWithDifference_RandomPictures_SumsAndDifferencesMatchScalarReference(int width, int height, int seed)
    {
        var frame = Synthetic.Noise(width, height, 0, 0.04, seed + 200, low: 0, high: 255);
        var reference = Synthetic.Noise(width, height, 0, 0.04, seed + 300, low: 0, high: 255).Luma.ToArray();
        var columns = (width + S - 1) / S;
        var expected = new int[columns * ((height + S - 1) / S)];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                expected[y / S * columns + x / S] += Math.Abs(frame.Luma[y * width + x] - reference[y * width + x]);

        var cells = new LumaCells();
        cells.MeasureWithDark(frame, 255); // leaves other statistics behind: the next measure must not add to them
        cells.MeasureWithDifference(frame, reference);

        Assert.Equal(Reference(frame, 0).Sum, cells.Sum.ToArray());
        Assert.Equal(expected, cells.Difference.ToArray());
    }

    [Fact]
    public void Measure_SizeChangesBackAndForth_ResultsStayExact()
    {
        // one instance reused across sizes, as when a stream switches renditions: no stale cells
        var cells = new LumaCells();
        foreach (var (w, h, seed) in new[] { (640, 360, 1), (33, 17, 2), (640, 360, 3), (250, 130, 4), (16, 16, 5) })
        {
            var frame = Synthetic.Noise(w, h, 0, 0.04, seed, low: 0, high: 255);
            cells.MeasureWithDark(frame, 37);
            var expected = Reference(frame, 37);
            Assert.Equal(expected.Sum, cells.Sum.ToArray());
            Assert.Equal(expected.Squares, cells.SumSquares.ToArray());
            Assert.Equal(expected.Dark, cells.Dark.ToArray());
            Assert.Equal(expected.Pixels, cells.Pixels.ToArray());
        }
    }

    [Fact]
    public void MeanAndVariance_KnownCell_AreExact()
    {
        // a 16x16 cell of alternating 10 and 30: mean 20, variance 100
        var frame = VideoFrame.Create(16, 16, 0);
        for (var i = 0; i < 256; i++) frame.Luma[i] = (byte)(i % 2 == 0 ? 10 : 30);
        var cells = new LumaCells();
        cells.MeasureWithDark(frame, 20);
        Assert.Equal(20, cells.Mean(0), 9);
        Assert.Equal(100, cells.Variance(0), 9);
        Assert.Equal(128, cells.Dark[0]);
    }

    [Fact]
    public void Variance_FlatCell_IsZeroNotNegative()
    {
        var frame = Synthetic.Flat(40, 20, 0, 0.04, 255);
        var cells = new LumaCells();
        cells.MeasureWithDark(frame, 255);
        for (var i = 0; i < cells.Count; i++) Assert.Equal(0, cells.Variance(i));
    }
}
