using Vigil.Media;

namespace Vigil.Detectors.Video;

/// <summary>
/// <c>video.blockiness</c>: compression blocking strong enough to see, sustained for the minimum duration.
/// Each picture is scored on its own (FFmpeg 5.1's blockdetect never resets its sums, so its value is a
/// running average that a blocky frame barely moves) from the native full-resolution grid statistics
/// (<see cref="BlockGridStats"/>): the share of 8×8 blocks whose left AND top edges both carry a
/// flat-sided step, minus the share of blocks whose inner column and row 3 (on no codec's grid) do.
/// Content sets that inner rate — texture makes steps everywhere, flat graphics nowhere — so only what
/// the block grid adds is left; and graphics whose long straight edges happen to lie on the grid step
/// one edge of a block, rarely both. The same is measured on the 16×16 macroblock grid with a softer
/// step, which is what remains of blocks after H.264's deblocking. Isolated blocky pictures (the I-frames of a clean MPEG-2 stream)
/// do not make a defect: blocking must hold, frame after frame, for the minimum duration.
/// Limit: starved HEVC (deblocking plus SAO over blocks up to 64 px) turns into blur with no steps
/// that stand out from clean HEVC pictures; it is not reported.
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

    /// <summary>
    /// The last picture's score, the one the decision uses (≥ 1 is blocky): the larger of the 8×8 and the
    /// 16×16 block scores, each over its threshold; NaN without grid statistics.
    /// </summary>
    public double LastScore { get; private set; } = double.NaN;

    /// <summary>
    /// Diagnostic: share of grid edges with a step beyond the off-grid rate (phase histograms). It sees
    /// what survives H.264's deblocking, but also graphics whose edges lie on the grid, so it does not decide.
    /// </summary>
    public double LastPhaseScore { get; private set; } = double.NaN;

    public void Process(VideoFrame frame)
    {
        var grid = frame.Grid;
        LastPhaseScore = grid.IsValid ? PhaseScore(grid) : double.NaN;
        if (grid.IsValid)
        {
            var (grid8, grid16) = BlockScores(grid, _options.BlockStep, _options.MacroblockStep);
            LastScore = Math.Max(grid8 / _options.Threshold, grid16 / _options.MacroblockThreshold);
        }
        else
        {
            LastScore = double.NaN;
        }
        // no statistics (10-bit or RGB source): no verdict, which cannot start or extend a defect
        var blocky = LastScore >= 1;
        if (!_tracker.IsOpen) { _scoreSum = 0; _scored = 0; }
        if (blocky) { _scoreSum += LastScore; _scored++; }
        _tracker.Update(blocky, frame.Pts, frame.Pts + frame.Duration,
            blocky ? Math.Clamp(LastScore / 2, 0.5, 1) : 0);
    }

    public void Flush(double endOfInput) => _tracker.Close();

    private double PhaseScore(BlockGridStats grid)
    {
        if (grid.LinesH == 0 || grid.LinesV == 0) return 0;
        return Math.Min(DirectionScore(grid.StepsH, grid.LinesH), DirectionScore(grid.StepsV, grid.LinesV));
    }

    /// <summary>
    /// The 8×8 score: share of blocks whose left AND top edges both carry steps of at least
    /// <paramref name="step"/>, minus the share whose inner column and row do. The 16×16 score: the same
    /// over the blocks at macroblock corners, with the softer <paramref name="macroblockStep"/>, because
    /// H.264's deblocking leaves only faint steps and only on macroblock edges.
    /// </summary>
    private static (double Grid8, double Grid16) BlockScores(BlockGridStats grid, int step, int macroblockStep)
    {
        var left = grid.EdgeLeft;
        var top = grid.EdgeTop;
        var innerLeft = grid.InnerLeft;
        var innerTop = grid.InnerTop;
        var columns = grid.BlockColumns;
        int onGrid = 0, inner = 0, onMacroblocks = 0, innerSoft = 0, macroblocks = 0;
        for (var i = 0; i < left.Length; i++)
        {
            if (left[i] >= step && top[i] >= step) onGrid++;
            if (innerLeft[i] >= step && innerTop[i] >= step) inner++;
            if (innerLeft[i] >= macroblockStep && innerTop[i] >= macroblockStep) innerSoft++;
            if (((i % columns) & 1) != 0 || ((i / columns) & 1) != 0) continue;
            macroblocks++;
            if (left[i] >= macroblockStep && top[i] >= macroblockStep) onMacroblocks++;
        }
        if (left.Length == 0 || macroblocks == 0) return (0, 0);
        return ((onGrid - inner) / (double)left.Length, onMacroblocks / (double)macroblocks - innerSoft / (double)left.Length);
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
