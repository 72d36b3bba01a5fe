using Vigil.Media;

namespace Vigil.Tests;

/// <summary>The native grid kernel on tiny synthetic pictures with exact expectations.</summary>
public class BlockGridStatsTests
{
    private const int Width = 64, Height = 48;

    private static BlockGridStats Measure(Func<int, int, byte> pixel)
    {
        var luma = new byte[Width * Height];
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
                luma[y * Width + x] = pixel(x, y);
        var stats = new BlockGridStats();
        BlockGridStats.Measure(luma, Width, Width, Height, stats);
        return stats;
    }

    [Fact]
    public void Measure_FlatPicture_NoStepsAndExactSums()
    {
        var stats = Measure((_, _) => 100);

        Assert.True(stats.IsValid);
        Assert.Equal(8, stats.BlockColumns);
        Assert.Equal(6, stats.BlockRows);
        AssertAllZero(stats);
        Assert.All(stats.Activity.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.Sum.ToArray(), v => Assert.Equal(64 * 100, v));
    }

    private static void AssertAllZero(BlockGridStats stats)
    {
        Assert.All(stats.EdgeLeft.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.EdgeTop.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.InnerLeft.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.InnerTop.ToArray(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void Measure_CheckerboardOf8x8Blocks_StepsOnEveryInteriorBlockEdgeOnly()
    {
        // flat 8x8 blocks, alternating 100 / 120: a flat-sided step of 20 at every block edge
        var stats = Measure((x, y) => (byte)((x / 8 + y / 8) % 2 == 0 ? 100 : 120));

        for (var row = 0; row < stats.BlockRows; row++)
            for (var column = 0; column < stats.BlockColumns; column++)
            {
                var i = row * stats.BlockColumns + column;
                // left edges are measured from the second 16-px chunk to the one before last; top edges from row 1
                var leftMeasured = column >= 2 && column < stats.BlockColumns - 2;
                Assert.Equal(leftMeasured ? 8 * 20 : 0, stats.EdgeLeft[i]);
                Assert.Equal(row >= 1 ? 8 * 20 : 0, stats.EdgeTop[i]);
                Assert.Equal(0, stats.InnerLeft[i]);
                Assert.Equal(0, stats.InnerTop[i]);
                Assert.Equal(64 * ((column + row) % 2 == 0 ? 100 : 120), stats.Sum[i]);
                // flat inside: the steps lie between blocks, and activity looks inside only
                Assert.Equal(0, stats.Activity[i]);
            }
    }

    [Fact]
    public void Measure_StepAtInnerColumn_CountedAsInnerNotEdge()
    {
        // a vertical step between x = 34 and 35: column 3 of block 4
        var stats = Measure((x, _) => (byte)(x >= 35 ? 140 : 100));

        var i = 2 * stats.BlockColumns + 4;
        Assert.Equal(8 * 40, stats.InnerLeft[i]);
        Assert.Equal(0, stats.EdgeLeft[i]);
        Assert.Equal(0, stats.EdgeLeft[i + 1]);
    }

    [Fact]
    public void Measure_SmoothRamp_NoSteps()
    {
        // a ramp changes by the same amount at every pixel: no edge stands out from its neighbours
        var stats = Measure((x, y) => (byte)(x * 3 + y));

        AssertAllZero(stats);
    }

    [Fact]
    public void Measure_OnePixelLineOnTheGrid_NotAStep()
    {
        // a 1-px bright line at x = 32: at 31|32 the neighbour difference 32|33 is the line itself, so the
        // jump is not flat-sided; a thin line is not a block edge
        var stats = Measure((x, _) => (byte)(x == 32 ? 200 : 50));

        AssertAllZero(stats);
    }

    [Fact]
    public void Measure_HorizontalAndVerticalRamps_ActivityCountsPairsInsideTheBlock()
    {
        // 7 neighbour pairs on each of the block's 8 lines, in each direction: 56 horizontal pairs 2 apart
        // plus 56 vertical pairs 1 apart, the same in every block (the picture border included)
        var stats = Measure((x, y) => (byte)(x * 2 + y));

        Assert.All(stats.Activity.ToArray(), v => Assert.Equal(56 * 2 + 56 * 1, v));
    }

    [Fact]
    public void Measure_OneBrightPixelInsideABlock_ActivityOfItsFourNeighbourPairs()
    {
        // pixel (3, 3) of block (1, 2) raised by 10: four pairs inside the block differ by 10
        var stats = Measure((x, y) => (byte)(x == 19 && y == 11 ? 110 : 100));

        var i = 1 * stats.BlockColumns + 2;
        Assert.Equal(40, stats.Activity[i]);
        Assert.Equal(1, stats.Activity.ToArray().Count(v => v != 0));
    }

    [Fact]
    public void Measure_PixelOnABlockBorder_OnlyPairsInsideTheBlockCount()
    {
        // pixel (0, 0) of block (1, 1): its left and upper neighbours lie in other blocks, so only the two
        // pairs inside count, and the neighbouring blocks see nothing
        var stats = Measure((x, y) => (byte)(x == 8 && y == 8 ? 130 : 100));

        Assert.Equal(2 * 30, stats.Activity[stats.BlockColumns + 1]);
        Assert.Equal(1, stats.Activity.ToArray().Count(v => v != 0));
    }

    [Fact]
    public void Measure_StepsOnEveryLineOfAnEdge_EachLineCounted()
    {
        // steps of different size on each of the 8 lines of block (2, 5)'s left edge and inner column: the
        // kernel pairs lines up to share work, so every line's own step must land in the sums
        var stats = Measure((x, y) =>
        {
            var rise = y >= 16 && y < 24 ? 10 + y % 8 : 0;
            return (byte)(100 + (x >= 40 ? rise : 0) + (x >= 43 ? 2 * rise : 0));
        });

        var i = 2 * stats.BlockColumns + 5;
        Assert.Equal(Enumerable.Range(10, 8).Sum(), stats.EdgeLeft[i]);
        Assert.Equal(Enumerable.Range(10, 8).Sum() * 2, stats.InnerLeft[i]);
    }
}
