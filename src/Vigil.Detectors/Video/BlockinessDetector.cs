using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// <c>video.blockiness</c>: compression blocking strong enough to see, sustained for the minimum duration.
/// Each picture is scored on its own (FFmpeg 5.1's blockdetect never resets its sums, so its value is a
/// running average that a blocky frame barely moves) from the native full-resolution grid statistics
/// (<see cref="BlockGridStats"/>): the share of 8×8 or 16×16 grid edges that carry a flat-sided step,
/// minus the share of off-grid edges (phases not on the 4-pixel grid) that do. Content sets the
/// off-grid rate — texture makes steps everywhere, flat graphics nowhere — so only what the block grid
/// adds is left. The score is the smaller of the horizontal and vertical excess: blocks have both, while
/// graphics that happen to line up with the grid rarely do. After H.264's or HEVC's deblocking only the
/// low-contrast steps that survive the filter remain, which the flat-sided step test still sees.
/// </summary>
public sealed class BlockinessDetector : IVideoDetector
{
    public const string KindName = "video.blockiness";

    private readonly BlockinessOptions _options;
    private readonly IntervalTracker _tracker;
    private readonly double[] _density = new double[BlockGridStats.Phases];
    private readonly double[] _offGrid = new double[BlockGridStats.Phases];
    private double _scoreSum;
    private int _scored;

    public BlockinessDetector(BlockinessOptions options, IDefectSink sink)
    {
        _options = options;
        _tracker = new IntervalTracker(KindName, options.MinDuration, sink, bridge: options.Bridge)
        {
            Details = () => new Dictionary<string, double> { ["score"] = Math.Round(_scoreSum / Math.Max(1, _scored), 4) },
        };
    }

    public string Kind => KindName;

    /// <summary>The last picture's score (share of grid edges with an excess step); NaN without grid statistics.</summary>
    public double LastScore { get; private set; } = double.NaN;

    /// <summary>The last picture's share of 8×8 blocks stepped on both their left and top edge, beyond the inner-line rate.</summary>
    public double LastBlockScore { get; private set; } = double.NaN;

    public void Process(VideoFrame frame)
    {
        var grid = frame.Grid;
        LastScore = grid.IsValid ? Score(grid) : double.NaN;
        LastBlockScore = grid.IsValid ? BlockScore(grid, _options.BlockStep) : double.NaN;
        // no statistics (10-bit or RGB source): no verdict, which cannot start or extend a defect
        var blocky = LastScore >= _options.Threshold;
        if (!_tracker.IsOpen) { _scoreSum = 0; _scored = 0; }
        if (blocky) { _scoreSum += LastScore; _scored++; }
        _tracker.Update(blocky, frame.Pts, frame.Pts + frame.Duration,
            blocky ? Math.Clamp(LastScore / (2 * _options.Threshold), 0.5, 1) : 0);
    }

    public void Flush(double endOfInput) => _tracker.Close();

    private double Score(BlockGridStats grid)
    {
        if (grid.LinesH == 0 || grid.LinesV == 0) return 0;
        return Math.Min(DirectionScore(grid.StepsH, grid.LinesH), DirectionScore(grid.StepsV, grid.LinesV));
    }

    /// <summary>
    /// Share of blocks whose left AND top edges both carry steps, minus the share whose inner column and
    /// row do: graphics whose long straight edges lie on the grid step one edge of a block, not both.
    /// </summary>
    private static double BlockScore(BlockGridStats grid, int step)
    {
        var left = grid.EdgeLeft;
        var top = grid.EdgeTop;
        var innerLeft = grid.InnerLeft;
        var innerTop = grid.InnerTop;
        int onGrid = 0, inner = 0;
        for (var i = 0; i < left.Length; i++)
        {
            if (left[i] >= step && top[i] >= step) onGrid++;
            if (innerLeft[i] >= step && innerTop[i] >= step) inner++;
        }
        return left.Length == 0 ? 0 : (onGrid - inner) / (double)left.Length;
    }

    private double DirectionScore(ReadOnlySpan<int> steps, int lines)
    {
        var off = 0;
        for (var p = 0; p < BlockGridStats.Phases; p++)
        {
            _density[p] = steps[p] / (double)lines;
            if (p % 4 != 0) _offGrid[off++] = _density[p];
        }
        // the median of the off-grid phases: robust to one phase that a graphic happens to line up on
        var offGrid = _offGrid.AsSpan(0, off);
        offGrid.Sort();
        var baseline = (offGrid[off / 2 - 1] + offGrid[off / 2]) / 2;
        var grid8 = (_density[0] + _density[8]) / 2 - baseline;
        var grid16 = _density[0] - baseline;
        return Math.Max(grid8, grid16);
    }
}
