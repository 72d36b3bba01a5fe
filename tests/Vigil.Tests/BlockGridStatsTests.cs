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
        Assert.All(stats.StepsH.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.StepsV.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.Sum.ToArray(), v => Assert.Equal(64 * 100, v));
    }

    [Fact]
    public void Measure_CheckerboardOf8x8Blocks_StepsOnlyOnThe8Grid()
    {
        // flat 8x8 blocks, alternating 100 / 120: a flat-sided step of 20 at every block edge
        var stats = Measure((x, y) => (byte)((x / 8 + y / 8) % 2 == 0 ? 100 : 120));

        for (var p = 0; p < BlockGridStats.Phases; p++)
        {
            Assert.Equal(p % 8 == 0 ? stats.LinesH : 0, stats.StepsH[p]);
            if (p % 8 != 0) Assert.Equal(0, stats.StepsV[p]);
        }
        Assert.True(stats.StepsV[8] > 0);
        // block (row 1, column 2): interior of the picture, so its left and top edges were measured
        var i = 1 * stats.BlockColumns + 2;
        Assert.Equal(8 * 20, stats.EdgeLeft[i]);
        Assert.Equal(8 * 20, stats.EdgeTop[i]);
        Assert.Equal(0, stats.InnerLeft[i]);
        Assert.Equal(0, stats.InnerTop[i]);
    }

    [Fact]
    public void Measure_SmoothRamp_NoSteps()
    {
        // a ramp changes by the same amount at every pixel: no edge stands out from its neighbours
        var stats = Measure((x, y) => (byte)(x * 3 + y));

        Assert.All(stats.StepsH.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.StepsV.ToArray(), v => Assert.Equal(0, v));
        Assert.All(stats.EdgeLeft.ToArray(), v => Assert.Equal(0, v));
    }

    [Fact]
    public void Measure_VerticalLineOffTheGrid_StepsAtItsPhasesOnly()
    {
        // a 1-px bright line at x = 21: steps at the edges 20|21 and 21|22 are NOT flat-sided on both
        // sides (the line itself is the neighbour difference), so a thin line is not a block edge
        var stats = Measure((x, _) => (byte)(x == 21 ? 200 : 50));

        Assert.Equal(0, stats.StepsH[0]);
        Assert.Equal(0, stats.StepsH[8]);
    }
}
